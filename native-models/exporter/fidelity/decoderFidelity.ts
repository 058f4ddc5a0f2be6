import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { StockDecodeRunner } from '../../../main/inference/decodeRunner.js';

/**
 * The decoder fidelity check (issue 14, item 1): logits at every position of one token sequence from three
 * implementations — ours (an exported embed + decoder through the app's decode loop, StockDecodeRunner, as
 * backend.ts runs a pack on CPU), transformers' LlamaForCausalLM (expected_transformers.py, precomputed) and
 * llama.cpp through node-llama-cpp on a GGUF made by its own convert_hf_to_gguf.py (live).
 *
 * The sequence is the fixed prompt followed by transformers' 64 greedy tokens, fed to every implementation
 * (teacher forcing): when each one's argmax equals transformers' next token at every step, its own free-running
 * greedy output is identical too, and the logits of all rows compare like for like.
 */

export interface Expected {
  inputIds: number[];
  greedyIds: number[];
  distinctGreedy: number;
  positions: number;
  vocab: number;
  checkpointSha256: string;
  transformers: string;
  torch: string;
  logitsFile: string;
}

export interface Rows {
  /** [positions · vocab] row-major; row r = next-token logits after ids[0..r] */
  logits: Float32Array;
  vocab: number;
}

export function loadExpected(jsonPath: string): { meta: Expected; rows: Rows; seq: number[] } {
  const meta = JSON.parse(readFileSync(jsonPath, 'utf8')) as Expected;
  const buf = readFileSync(path.join(path.dirname(jsonPath), meta.logitsFile));
  const logits = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (logits.length !== meta.positions * meta.vocab) throw new Error(`${meta.logitsFile}: ${logits.length} floats, want ${meta.positions}·${meta.vocab}`);
  return { meta, rows: { logits, vocab: meta.vocab }, seq: [...meta.inputIds, ...meta.greedyIds] };
}

/** Our exported `embed.onnx` + `decoder.onnx` in `dir` through StockDecodeRunner (session options as backend.ts). */
export async function runOurs(dir: string, seq: number[], prompt: number, llm: { hidden: number; layers: number; kvHeads: number; headDim: number; vocab: number }): Promise<Rows> {
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const embed = await ort.InferenceSession.create(path.join(dir, 'embed.onnx'), opts);
  const decoder = await ort.InferenceSession.create(path.join(dir, 'decoder.onnx'), opts);
  const V = llm.vocab;
  const out = new Float32Array(seq.length * V);
  const runner = new StockDecodeRunner(embed, decoder, { ...llm, maxContext: seq.length }, () => undefined);
  try {
    await runner.prefill(await runner.embedIds(seq.slice(0, prompt)), prompt);
    out.set(runner.stepLogits().subarray(0, prompt * V), 0);
    for (let r = prompt; r < seq.length; r++) {
      await runner.next(seq[r]!);
      out.set(runner.lastLogits(), r * V);
    }
  } finally {
    runner.dispose();
    await embed.release();
    await decoder.release();
  }
  return { logits: out, vocab: V };
}

/** Free-running greedy decoding of our export (its own argmax fed back), for the int4 agreement figure. */
export async function greedyOurs(dir: string, prompt: number[], steps: number, llm: { hidden: number; layers: number; kvHeads: number; headDim: number; vocab: number }): Promise<number[]> {
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const embed = await ort.InferenceSession.create(path.join(dir, 'embed.onnx'), opts);
  const decoder = await ort.InferenceSession.create(path.join(dir, 'decoder.onnx'), opts);
  const runner = new StockDecodeRunner(embed, decoder, { ...llm, maxContext: prompt.length + steps }, () => undefined);
  const ids: number[] = [];
  try {
    await runner.prefill(await runner.embedIds(prompt), prompt.length);
    for (let s = 0; s < steps; s++) {
      ids.push(argmax(runner.lastLogits()));
      if (s < steps - 1) await runner.next(ids[s]!);
    }
  } finally {
    runner.dispose();
    await embed.release();
    await decoder.release();
  }
  return ids;
}

interface LlamaLike {
  loadModel(o: { modelPath: string; gpuLayers?: number }): Promise<{
    createContext(o: Record<string, unknown>): Promise<{
      getSequence(): { controlledEvaluate(input: unknown[]): Promise<({ next: { token?: number | null; probabilities?: Map<number, number> } } | undefined)[]> };
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
  dispose(): Promise<void>;
  systemInfo?: string;
}

const ensureUrl = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'llamacpp', 'ensure.mjs')).href;

/** node-llama-cpp, installed on demand (native-models/llamacpp/ensure.mjs), prebuilt CPU binary, no downloads. */
export async function openLlamaCpp(): Promise<{ llama: LlamaLike; release: { tag: string; repo: string; nodeLlamaCpp: string } }> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  const ensure = (await import(ensureUrl)) as { importNodeLlamaCpp(): Promise<{ getLlama(o: object): Promise<LlamaLike> }>; llamaCppRelease(): { tag: string; repo: string; nodeLlamaCpp: string } };
  const { getLlama } = await ensure.importNodeLlamaCpp();
  const llama = await getLlama({ build: 'never', gpu: false, logLevel: 'error', progressLogs: false });
  return { llama, release: ensure.llamaCppRelease() };
}

/**
 * llama.cpp's next-token distribution at every position, as log-probabilities (node-llama-cpp exposes the softmax
 * of the raw logits over the whole vocabulary — greedy sampler, no truncation — not the logits themselves: compare
 * them after centring, below). F32 KV cache and no flash attention, so nothing is rounded to fp16.
 */
export async function runLlamaCpp(llama: LlamaLike, gguf: string, seq: number[], vocab: number): Promise<Rows & { argmax: number[] }> {
  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
  const ctx = await model.createContext({
    contextSize: Math.max(256, seq.length), batchSize: Math.max(256, seq.length), sequences: 1, flashAttention: false,
    experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32', threads: 2,
  });
  try {
    const res = await ctx.getSequence().controlledEvaluate(seq.map((t) => [t, { generateNext: { token: true, probabilities: true, options: { temperature: 0 } } }]));
    const out = new Float32Array(seq.length * vocab).fill(-Infinity);
    const argmax: number[] = [];
    res.forEach((r, i) => {
      if (!r?.next.probabilities) throw new Error(`llama.cpp returned no distribution at position ${i}`);
      for (const [tok, p] of r.next.probabilities) out[i * vocab + tok] = Math.log(p);
      argmax.push(r.next.token ?? -1);
    });
    return { logits: out, vocab, argmax };
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

export interface Comparison {
  positions: number;
  /** rows whose argmax differs */
  top1Mismatch: number[];
  /** greedy steps (rows prompt-1 … prompt+steps-2) whose argmax equals the next token of the sequence */
  greedyAgree: number;
  greedySteps: number;
  /** max over all rows and tokens of |Δ| */
  maxAbs: number;
  /** max over rows of max|Δ| / max|reference| in that row */
  maxRel: number;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

/** mean-free copy of one row (logits and log-probabilities agree up to a per-row constant) */
function centred(a: Float32Array): Float64Array {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  return Float64Array.from(a, (v) => v - m);
}

/**
 * ours vs a reference over every row. centre: compare mean-free rows (needed for llama.cpp's log-probabilities;
 * transformers' raw logits compare directly).
 */
export function compareRows(ours: Rows, ref: Rows, seq: number[], prompt: number, centre: boolean): Comparison {
  const V = ref.vocab;
  const n = seq.length;
  const c: Comparison = { positions: n, top1Mismatch: [], greedyAgree: 0, greedySteps: n - prompt, maxAbs: 0, maxRel: 0 };
  for (let r = 0; r < n; r++) {
    const a = ours.logits.subarray(r * V, (r + 1) * V);
    const b = ref.logits.subarray(r * V, (r + 1) * V);
    const ia = argmax(a), ib = argmax(b);
    if (ia !== ib) c.top1Mismatch.push(r);
    if (r >= prompt - 1 && r < n - 1 && ia === seq[r + 1]) c.greedyAgree++;
    const [x, y] = centre ? [centred(a), centred(b)] : [a, b];
    let rowMax = 0, refMax = 0;
    for (let i = 0; i < V; i++) {
      rowMax = Math.max(rowMax, Math.abs(x[i]! - y[i]!));
      refMax = Math.max(refMax, Math.abs(y[i]!));
    }
    c.maxAbs = Math.max(c.maxAbs, rowMax);
    c.maxRel = Math.max(c.maxRel, rowMax / refMax);
  }
  return c;
}

export function passes(c: Comparison, tol: { abs: number; rel: number }): boolean {
  return c.top1Mismatch.length === 0 && c.greedyAgree === c.greedySteps && c.maxAbs <= tol.abs && c.maxRel <= tol.rel;
}

export function describeComparison(c: Comparison): string {
  return `top-1 identical at ${c.positions - c.top1Mismatch.length}/${c.positions} positions, greedy ${c.greedyAgree}/${c.greedySteps} steps, max |Δlogit| ${c.maxAbs.toExponential(2)}, max relative ${c.maxRel.toExponential(2)}`;
}
