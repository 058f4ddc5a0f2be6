import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The llama.cpp side of `npm run bench:gpu` (issue 16): a Q4_0 GGUF of exactly the pack's decoder shapes, built in
 * the same run by llama.cpp's own converter (make_gguf.py), timed through node-llama-cpp (native-models/llamacpp,
 * installed on demand) at llama.cpp's defaults — F16 KV cache, flash attention "auto" — with the thread count
 * ours runs with. End of sequence is ignored: tokens are fed, never sampled to a stop.
 */

export interface GgufShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  maxContext: number;
}

// node-llama-cpp is not among the app's dependencies (it lives in native-models/llamacpp, installed on demand):
// the few calls made here are typed locally
type Token = number;
interface LlamaSequence {
  nextTokenIndex: number;
  controlledEvaluate(input: (Token | [Token, { generateNext: { token: boolean } }])[]): Promise<unknown>;
  eraseContextTokenRanges(ranges: { start: number; end: number }[]): Promise<void>;
  dispose(): void;
}
interface LlamaContext {
  contextSize: number;
  flashAttention: unknown;
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
interface LlamaModule {
  LlamaLogLevel: { error: unknown };
  getLlama(o: { build: 'never'; gpu: false; logLevel: unknown }): Promise<{
    loadModel(o: { modelPath: string }): Promise<{
      createContext(o: { contextSize: number; threads: { ideal: number; min: number }; batchSize: number }): Promise<LlamaContext>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
}

interface Ensure {
  importNodeLlamaCpp(): Promise<LlamaModule>;
  llamaCppSource(dest: string): string;
  llamaCppRelease(): { tag: string; repo: string; nodeLlamaCpp: string };
}

async function ensureModule(repo: string): Promise<Ensure> {
  // a runtime import: the bench runs bundled from node_modules/.cache, and ensure.mjs finds its folder by its own URL
  return (await import(pathToFileURL(path.join(repo, 'native-models', 'llamacpp', 'ensure.mjs')).href)) as Ensure;
}

/** A Python that can run llama.cpp's converter (torch, transformers, sentencepiece, numpy), or why there is none. */
export function converterPython(repo: string): { python: string | null; tried: string[] } {
  const candidates = [process.env.VANTAGE_GGUF_PYTHON, path.join(repo, 'native-models', 'llamacpp', '.venv', 'bin', 'python3'), 'python3', '/usr/bin/python3']
    .filter((p): p is string => !!p);
  const tried: string[] = [];
  for (const p of candidates) {
    const r = spawnSync(p, ['-c', 'import numpy, torch, transformers, sentencepiece'], { encoding: 'utf8' });
    if (r.status === 0) return { python: p, tried };
    tried.push(`${p}: ${(r.error?.message ?? r.stderr.trim().split('\n').pop() ?? '').slice(0, 120)}`);
  }
  return { python: null, tried };
}

export interface BuiltGguf {
  file: string;
  bytes: number;
  buildSeconds: number;
  cached: boolean;
  python: string;
  llamaCpp: { tag: string; repo: string; nodeLlamaCpp: string };
}

/** Builds (or reuses, keyed by shape + dense type + converter source) the GGUF; throws with the reason otherwise. */
export async function buildGguf(repo: string, shape: GgufShape, dense: 'f32' | 'f16', log: (s: string) => void): Promise<BuiltGguf> {
  const ensure = await ensureModule(repo);
  const release = ensure.llamaCppRelease();
  const cache = path.join(os.tmpdir(), 'vantage-llamacpp');
  mkdirSync(cache, { recursive: true });
  const src = ensure.llamaCppSource(path.join(cache, `llama.cpp-${release.nodeLlamaCpp}`));
  const key = createHash('sha256').update(JSON.stringify({ shape, dense, release, v: 1 })).digest('hex').slice(0, 12);
  const file = path.join(cache, `bench-${shape.hidden}x${shape.layers}-v${shape.vocab}-q4_0-${dense}-${key}.gguf`);
  const { python, tried } = converterPython(repo);
  if (existsSync(file)) return { file, bytes: statSync(file).size, buildSeconds: 0, cached: true, python: python ?? 'n/a', llamaCpp: release };
  if (!python) {
    throw new Error(`no Python with llama.cpp's converter requirements (torch, transformers, sentencepiece): set VANTAGE_GGUF_PYTHON, or ` +
      `python3 -m venv native-models/llamacpp/.venv && native-models/llamacpp/.venv/bin/pip install -r ${path.join(src, 'requirements', 'requirements-convert_hf_to_gguf.txt')} (tried ${tried.join('; ')})`);
  }
  const work = path.join(cache, `hf-${key}`);
  log(`building the llama.cpp model: ${path.basename(file)} (convert_hf_to_gguf.py of ${release.repo}@${release.tag}, Q4_0 linears, ${dense} embedding + output layer)…`);
  const t0 = performance.now();
  const r = spawnSync(python, [path.join(repo, 'native-models', 'bench', 'make_gguf.py'), '--llama-src', src, '--shape', JSON.stringify(shape), '--dense', dense, '--work', work, '--out', `${file}.part`], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  rmSync(work, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`make_gguf.py failed (${r.status}): ${(r.stderr || r.stdout).slice(-1500)}`);
  renameSync(`${file}.part`, file);
  return { file, bytes: statSync(file).size, buildSeconds: (performance.now() - t0) / 1e3, cached: false, python, llamaCpp: release };
}

/** Q4_0 bytes one decode step reads: 18 bytes per 32 weights of every linear, the dense output layer, the F16 KV cache. */
export function ggufBytesPerToken(s: GgufShape, denseBytes: number, context: number) {
  const d = s.hidden, hd = s.headDim;
  const lin = [[s.heads * hd, d], [s.kvHeads * hd, d], [s.kvHeads * hd, d], [d, s.heads * hd], [s.intermediate, d], [s.intermediate, d], [d, s.intermediate]];
  const linear = lin.reduce((a, [n, k]) => a + n! * Math.ceil(k! / 32) * 18, 0);
  const weights = s.layers * (linear + 2 * d * 4) + s.vocab * d * denseBytes + d * 4 + d * denseBytes; // + one embedding row
  const kv = 2 * s.layers * s.kvHeads * hd * 2 * context;
  return { weights, kv, total: weights + kv };
}

export interface LlamaCppRunner {
  describe: string;
  contextSize: number;
  flashAttention: unknown;
  /** a fresh sequence with `n` prompt tokens evaluated; ms of that evaluation */
  prefill(n: number): Promise<number>;
  /** one token fed and evaluated after the current ones (no sampling, no stop on end of sequence) */
  next(token: number): Promise<void>;
  position(): number;
  /** rolls the sequence back to `n` tokens (the KV rows after it are erased) */
  truncate(n: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function openLlamaCpp(repo: string, file: string, threads: number, contextSize: number, vocab: number): Promise<LlamaCppRunner> {
  const ensure = await ensureModule(repo);
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  const { getLlama, LlamaLogLevel } = await ensure.importNodeLlamaCpp();
  const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  // llama.cpp's defaults: KV cache F16, flash attention as it chooses ("auto"); batch 512 (its default n_batch)
  const ctx = await model.createContext({ contextSize, threads: { ideal: threads, min: threads }, batchSize: 512 });
  let seq = ctx.getSequence();
  // ordinary pieces past <unk> <s> </s> and the 256 byte tokens, cycling through the vocabulary
  const tok = (i: number) => (259 + ((i * 7919) % (vocab - 259))) as Token;
  // every evaluation asks for the next token of its last row, as generation does: llama.cpp then computes that
  // row's logits (the output layer) and samples it; the token fed next is ours, so end of sequence never stops it
  const run = (tokens: Token[]) => seq.controlledEvaluate(tokens.map((t, i) => (i === tokens.length - 1 ? [t, { generateNext: { token: true } }] : t)));
  const release = ensure.llamaCppRelease();
  return {
    describe: `node-llama-cpp ${release.nodeLlamaCpp} (llama.cpp ${release.tag}), CPU, ${threads} threads, KV cache F16, flash attention ${String(ctx.flashAttention)}`,
    contextSize: ctx.contextSize,
    flashAttention: ctx.flashAttention,
    async prefill(n) {
      seq.dispose();
      seq = ctx.getSequence();
      const tokens = Array.from({ length: n }, (_, i) => tok(i));
      const t0 = performance.now();
      await run(tokens);
      return performance.now() - t0;
    },
    async next(token) {
      await run([tok(token)]);
    },
    position: () => seq.nextTokenIndex,
    async truncate(n) {
      if (seq.nextTokenIndex > n) await seq.eraseContextTokenRanges([{ start: n, end: seq.nextTokenIndex }]);
    },
    async dispose() {
      seq.dispose();
      await ctx.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}
