import { createCpuSession, type CpuGraph } from '../../main/inference/cpuInt8.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { NativeDecodeRunner, NativeDecodeSessions, StockDecodeRunner, type DecodeRunner, type NativeDecodeOptions } from '../../main/inference/decodeRunner.js';
import type { NativeOrt } from '../../main/inference/nativeOrt.js';
import type { LlmShape } from './byteModel.js';
import { pairedDecode, pairedPrefill, runnerSide, type PairLog, type PairSummary } from './interleave.js';

/**
 * `npm run bench:gpu -- --config NAME --levers`: issue 16's CPU levers, each measured against the pack as exported
 * by default in the same run (interleaved pairs, our native in-place binding on both sides), with its token
 * agreement against that baseline (fp32 compute of the same int4 weights, fp32 KV cache, every logits row):
 *   accuracyLevel4  MatMulNBits accuracy_level=4: int8 activations, integer dot products (exporter --accuracy-level 4)
 *   lastRowLogits   the LM head on the last prompt row only (exporter --last-logits)
 *   kvFloat16       fp16 KV cache in the fp32 GQA graph (exporter --kv-dtype float16)
 *   spinningOff     onnxruntime's intra-op threads without spinning (session.intra_op.allow_spinning = 0)
 *   combined        all of the above
 * Variants differ from the baseline in the decoder graph only (same seed, same weights); they share its embed.
 * `--profile` adds onnxruntime's per-op profile of the baseline decoder (where a token's time goes).
 */

/** the manifest's llm block as the levers read it: the decode shapes plus the context it was exported for */
interface Llm extends LlmShape {
  maxContext: number;
  staticKvCache?: boolean;
}

interface Variant {
  key: string;
  what: string;
  flags: string[];
  threads?: NativeDecodeOptions['threads'];
  precision: 'exact' | 'lower';
}

const VARIANTS: Variant[] = [
  { key: 'accuracyLevel4', what: 'MatMulNBits accuracy_level=4 (int8 compute)', flags: ['--accuracy-level', '4'], precision: 'lower' },
  { key: 'lastRowLogits', what: 'last-row-only logits at prefill', flags: ['--last-logits'], precision: 'exact' },
  { key: 'kvFloat16', what: 'fp16 KV cache', flags: ['--kv-dtype', 'float16'], precision: 'lower' },
  { key: 'spinningOff', what: 'intra-op threads = physical cores (onnxruntime default), spinning off', flags: [], threads: { spinning: false }, precision: 'exact' },
  { key: 'combined', what: 'all of the above', flags: ['--accuracy-level', '4', '--last-logits', '--kv-dtype', 'float16'], threads: { spinning: false }, precision: 'lower' },
];

export interface LeverInput {
  repo: string;
  packDir: string;
  manifest: { llm: Llm; stages: Record<string, { file: string }>; exporter?: { config?: string; weights?: string; attention?: string } };
  addon: NativeOrt;
  pairs: number;
  steps: number;
  contexts: number[];
  log: (s: string) => void;
}

function variantDecoder(inp: LeverInput, v: Variant): string {
  if (!v.flags.length) return path.join(inp.packDir, inp.manifest.stages.decoder!.file);
  const ex = inp.manifest.exporter!;
  const dir = path.join(os.tmpdir(), `vantage-lever-${ex.config}-${ex.attention}-${v.key}`);
  const file = path.join(dir, 'decoder.onnx');
  if (existsSync(file)) return file;
  inp.log(`  exporting the ${v.key} decoder (${v.flags.join(' ')})…`);
  const p = spawnSync('/usr/bin/python3', [path.join(inp.repo, 'native-models/exporter/export_pack.py'), '--config', ex.config!, '--random-weights', '--attention', ex.attention ?? 'matmul', ...v.flags, '--only', 'decoder', '--out', dir], { encoding: 'utf8' });
  if (p.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`export of ${v.key} failed: ${p.stderr.slice(-400)}`);
  }
  return file;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * Teacher-forced greedy agreement: both decoders read the same prompt, then at every step each one's top token is
 * compared and the baseline's is fed to both (one early difference does not make every later one differ).
 */
async function agreement(base: DecodeRunner, other: DecodeRunner, vocab: number, promptLen: number, steps: number) {
  let seed = 12345;
  const ids = Array.from({ length: promptLen }, () => ((seed = (seed * 1103515245 + 12345) >>> 0), 3 + (seed % (vocab - 3))));
  const emb = await base.embedIds(ids);
  await base.prefill(emb, promptLen);
  await other.prefill(emb, promptLen);
  let same = 0, maxAbs = 0;
  for (let s = 0; s < steps; s++) {
    const a = base.lastLogits(), b = other.lastLogits();
    for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    const t = argmax(a);
    if (argmax(b) === t) same++;
    await base.next(t);
    await other.next(t);
  }
  return { tokens: steps, agree: same, agreement: Number((same / steps).toFixed(4)), maxAbsLogitDiff: Number(maxAbs.toExponential(3)) };
}

export async function runLevers(inp: LeverInput): Promise<Record<string, unknown>> {
  const { manifest: m, addon, pairs, steps, log } = inp;
  const ex = m.exporter;
  if (!ex?.config || ex.weights !== 'random') return { skipped: 'levers re-export the pack with the exporter: give --config NAME (a random-weight pack)' };
  if (!m.llm.staticKvCache) return { skipped: 'levers compare the native in-place path: the pack needs --attention gqa (bench:gpu --config builds one)' };
  const L = m.llm;
  const embed = path.join(inp.packDir, m.stages.embed!.file);
  const open = (decoder: string, threads?: NativeDecodeOptions['threads']) =>
    NativeDecodeSessions.create(addon, { embed, decoder }, L, { provider: 'cpu', staticKv: true, cudaGraph: false, threads });
  const runnerOf = (s: NativeDecodeSessions) => {
    let live: DecodeRunner | null = null;
    return () => {
      live?.dispose();
      return (live = new NativeDecodeRunner(s, () => undefined));
    };
  };
  const base = open(path.join(inp.packDir, m.stages.decoder!.file));
  const baseMake = runnerOf(base);
  const out: Record<string, unknown> = {
    baseline: 'the pack as exported by default: MatMulNBits fp32 compute, fp32 KV cache, logits for every row, onnxruntime default threads',
    method: `pairs of (baseline, variant) interleaved, ${pairs} pairs; ratio = baseline ms / variant ms (≥ 1: the lever helps); agreement: teacher-forced greedy top-1 vs the baseline over 32 tokens after a 64-token prompt`,
  };
  const ctxs = inp.contexts.filter((c) => c + pairs * steps + 1 <= L.maxContext);
  try {
    for (const v of VARIANTS) {
      let s: NativeDecodeSessions | null = null;
      try {
        s = open(variantDecoder(inp, v), v.threads);
        const make = runnerOf(s);
        const a = runnerSide(baseMake, L.hidden), b = runnerSide(make, L.hidden);
        const row: Record<string, unknown> = { what: v.what, precision: v.precision, exporterFlags: v.flags.join(' ') || null, threads: v.threads ?? null };
        const pairLog: PairLog = (what, i, p) => log(`    ${v.key} ${what} pair ${i + 1}/${pairs}: baseline ${p.aMs.toFixed(1)} ms, variant ${p.bMs.toFixed(1)} ms`);
        const pf: PairSummary = await pairedPrefill(a, b, 512, pairs, pairLog);
        row.prefill512 = { baselineMs: pf.aMs, variantMs: pf.bMs, ratio: pf.ratio, pairsAtLeast1: pf.pairsAtLeast1 };
        for (const ctx of ctxs) {
          const d = await pairedDecode(a, b, ctx, pairs, steps, pairLog);
          row[`decode${ctx}`] = { baselineTokS: Number((1e3 / d.aMs).toFixed(2)), variantTokS: Number((1e3 / d.bMs).toFixed(2)), ratio: d.ratio, pairsAtLeast1: d.pairsAtLeast1 };
        }
        const ra = baseMake(), rb = make();
        row.agreement = await agreement(ra, rb, L.vocab, 64, 32);
        out[v.key] = row;
        log(`lever ${v.key} (${v.what}): prefill 512 ×${pf.ratio}` + ctxs.map((c) => `, decode @${c} ×${(row[`decode${c}`] as { ratio: number }).ratio}`).join('') +
          `; top-1 agreement ${(row.agreement as { agree: number }).agree}/32, max |Δlogit| ${(row.agreement as { maxAbsLogitDiff: number }).maxAbsLogitDiff}`);
        ra.dispose();
        rb.dispose();
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0]!;
        log(`lever ${v.key}: failed — ${reason}`);
        out[v.key] = { what: v.what, error: reason };
      } finally {
        s?.release();
      }
    }
  } finally {
    base.release();
  }
  return out;
}

/**
 * onnxruntime's own per-op profile of the decoder (stock binding, so the profiler sees every node): total time per
 * operator type for `tokens` decode steps at context `ctx` and for one prefill of `prefill` rows.
 */
export async function opProfile(packDir: string, m: LeverInput['manifest'], ctx: number, tokens: number, prefill: number, decoderFile?: string | CpuGraph) {
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: path.join(os.tmpdir(), 'vantage-ortprofile') };
  const embed = await ort.InferenceSession.create(path.join(packDir, m.stages.embed!.file), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  // skipRuns: the first decoder runs (a decode's prefill) are left out of the op totals
  const summarise = async (skipRuns: number, run: (r: DecodeRunner) => Promise<number>) => {
    const dec = await createCpuSession(decoderFile ?? path.join(packDir, m.stages.decoder!.file), opts);
    const r = new StockDecodeRunner(embed, dec, m.llm, () => undefined);
    let wallMs: number;
    try {
      wallMs = await run(r);
    } finally {
      r.dispose();
    }
    // the profile file is written when profiling ends; the binding has no endProfiling, releasing the session ends it
    const before = new Set(listProfiles());
    await dec.release();
    const file = listProfiles().find((f) => !before.has(f)) ?? listProfiles().at(-1);
    return { wallMs, ops: file ? byOp(JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[], skipRuns) : null, file };
  };
  const decode = await summarise(1, async (r) => {
    await r.prefill(new Float32Array(ctx * m.llm.hidden).fill(0.01), ctx);
    const t0 = performance.now();
    for (let s = 0; s < tokens; s++) await r.next(5 + (s % 7));
    return (performance.now() - t0) / tokens;
  });
  const pre = await summarise(0, async (r) => {
    const t0 = performance.now();
    await r.prefill(new Float32Array(prefill * m.llm.hidden).fill(0.01), prefill);
    return performance.now() - t0;
  });
  await embed.release();
  return { decode: { context: ctx, tokens, msPerTokenWall: Number(decode.wallMs.toFixed(2)), ops: decode.ops }, prefill: { rows: prefill, msWall: Number(pre.wallMs.toFixed(1)), ops: pre.ops } };
}

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

function listProfiles(): string[] {
  const dir = os.tmpdir();
  return spawnSync('sh', ['-c', `ls -1tr ${dir}/vantage-ortprofile*.json 2>/dev/null`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

/** kernel time per op type (ms per decoder run, share of the total), largest first */
function byOp(events: ProfileEvent[], skipRuns: number) {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const start = runs[skipRuns]?.ts ?? 0;
  const n = Math.max(1, runs.length - skipRuns);
  const per = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
    const op = e.args?.op_name ?? '?';
    const x = per.get(op) ?? { ms: 0, calls: 0 };
    x.ms += e.dur / 1e3 / n;
    x.calls++;
    per.set(op, x);
    total += e.dur / 1e3 / n;
  }
  return {
    runs: n,
    kernelMsPerRun: Number(total.toFixed(2)),
    byOp: [...per.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([op, x]) => ({ op, msPerRun: Number(x.ms.toFixed(3)), share: Number((x.ms / total).toFixed(3)), callsPerRun: x.calls / n })),
  };
}
