import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { NativeDecodeRunner, NativeDecodeSessions, StockDecodeRunner, type DecodeRunner } from '../../main/inference/decodeRunner.js';
import { SessionFactory, type ProviderName } from '../../main/inference/backend.js';
import { cpuInt8Decoder, createCpuSession, type CpuGraph } from '../../main/inference/cpuInt8.js';
import { loadNativeOrt } from '../../main/inference/nativeOrt.js';
import { InferencePipeline, type AskInput } from '../../main/inference/pipeline.js';
import { seededRandom } from '../../main/util/seededRandom.js';
import { bytesPerToken, type ByteLayout } from './byteModel.js';
import { copyBandwidth } from './cpuBandwidth.js';
import { opProfile, runLevers } from './levers.js';
import { pairedDecode, pairedPrefill, runnerSide, type PairLog, type TimedSide } from './interleave.js';
import { buildGguf, ggufBytesPerToken, openLlamaCpp, type BuiltGguf, type GgufShape, type LlamaCppRunner } from './llamaCppSide.js';

/**
 * `npm run bench:gpu [-- --pack DIR | --config NAME [--pack-options "FLAGS"]] [--quick] [--pairs N] [--threads N] [--no-llamacpp] [--out FILE]`:
 * issue 7's benchmark in one run. Limits first (device bandwidth,
 * matmul throughput), then the pack's speeds and each as a ratio to its limit. Runs on whatever provider the app's
 * ladder picks (VANTAGE_EP forces one); on a machine without CUDA it says so and prints CPU figures.
 *
 * Without --pack it builds the `small` int4 random-weight pack with the exporter (needs /usr/bin/python3 + torch).
 * Decode runs through the app's own decode runners (main/inference/decodeRunner.ts), each binding in turn: the stock
 * onnxruntime-node binding (KV cache through host memory every step) and the native IO-binding addon (KV cache on
 * the device; in place for static-cache packs; plus CUDA graphs on CUDA), each as a ratio to the bandwidth floor
 * and as a speed-up over the stock binding measured in the same run.
 *
 * Then (issue 16) llama.cpp on the same shapes: a Q4_0 GGUF built in the same run by llama.cpp's own converter
 * (llamaCppSide.ts / make_gguf.py), timed through node-llama-cpp next to our fastest binding, interleaved pair by
 * pair with the same thread count: decode tokens/s at 128 and 2k context, prefill of 512 tokens, bytes read per
 * token, each side's ratio to the bandwidth floor and ours to llama.cpp (median of the pairs, and how many pairs
 * reach 1.0). --config NAME builds the exporter's NAME config as an int4 GQA pack (e.g. tinyllama); --quick: 3
 * pairs, 8 tokens each, no per-binding sweep or app path; --contexts 128,2048 (the default) picks the decode contexts. --levers: levers.ts (each CPU lever against the default
 * export, with its token agreement); --profile: onnxruntime's per-op profile of the decoder.
 */

// runBench.mjs runs a bundled copy from node_modules/.cache, so the repository root comes from it
const repo = process.env.VANTAGE_REPO ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.join(repo, 'native-models', 'bench');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
const quick = flag('quick');
/** intra-op threads of our sessions (onnxruntime's default: the physical cores) = llama.cpp's threads */
const threads = Number(arg('threads') ?? os.availableParallelism());
const pairs = Number(arg('pairs') ?? (quick ? 3 : 8));
const pairSteps = quick ? 8 : 16;
/** decode contexts of the llama.cpp comparison and the levers (--contexts 128,2048) */
const pairContexts = (arg('contexts') ?? '128,2048').split(',').map(Number);
/** --bindings REGEX: only the decode bindings whose name matches (e.g. 'in place'); --decode-only: embed + decoder
 * alone (no stage limits, no app path), for quick CUDA levers such as ORT_FPA_INTB_GEMM=1 */
const bindingFilter = arg('bindings') ? new RegExp(arg('bindings')!, 'i') : null;
const decodeOnly = flag('decode-only');
/** onnxruntime's environment switches in effect (ORT_FPA_INTB_GEMM, ORT_DISABLE_FLASH_ATTENTION…): a lever run says which */
const ortEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ORT_')));

interface Manifest {
  name: string;
  quantisation: string;
  view: { size: number; tokens: number; maxViews: number };
  grounding: { channels: number; grid: number; size?: number };
  llm: { hidden: number; layers: number; heads: number; kvHeads: number; headDim: number; vocab: number; maxContext: number; staticKvCache?: boolean };
  stages: Record<string, { file: string }>;
  exporter?: { intermediate: number; linears: 'int4' | 'fp32'; scaleBytes: number; denseBytes: number; kvBytes: number; blockSize?: number; zeroPoints?: boolean; config?: string; weights?: string; attention?: string };
}

const now = () => performance.now();
const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up (allocations, kernel selection)
  const t0 = now();
  for (let i = 0; i < runs; i++) await fn();
  return (now() - t0) / runs;
}
/** best of `runs` (after a warm-up): a limit is what the device can do, so noise only ever lowers it */
async function bestOf(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await fn();
    best = Math.min(best, now() - t0);
  }
  return best;
}
const f32 = (dims: number[], fill = 0) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill), dims);
const round = (v: number, d = 3) => Number(v.toFixed(d));

/** nvidia-smi memory.used polled in the background; null where there is no NVIDIA driver */
class GpuMemory {
  peakMiB: number | null = null;
  info: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  start(): void {
    const q = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
    if (q.status !== 0) return;
    this.info = q.stdout.trim();
    this.timer = setInterval(() => {
      execFile('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], (err, out) => {
        if (!err) this.note(Number(out.trim().split('\n')[0]));
      });
    }, 100);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
  /** peak since the last call (each decode binding's own peak), folded into the run's overall peak */
  takePeak(): number | null {
    const p = this.phasePeak;
    this.phasePeak = null;
    return p;
  }
  private phasePeak: number | null = null;
  note(v: number): void {
    this.peakMiB = Math.max(this.peakMiB ?? 0, v);
    this.phasePeak = Math.max(this.phasePeak ?? 0, v);
  }
}

function hostPeakMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '');
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

function ensurePack(): string {
  const given = arg('pack');
  if (given) return path.resolve(given);
  const config = arg('config');
  // --config NAME: that exporter config as an int4 GroupQueryAttention pack (static KV cache: the native in-place path);
  // --pack-options "…": more exporter flags for it (e.g. "--block-size 64 --symmetric", the Q4_0-sized pack)
  const options = (arg('pack-options') ?? '').split(/\s+/).filter(Boolean);
  const extra = config ? ['--attention', 'gqa', ...options] : options;
  const tag = options.map((o) => o.replace(/^--/, '')).join('-');
  const dir = path.join(os.tmpdir(), (config ? `vantage-${config}-int4-gqa` : 'vantage-small-int4') + (tag ? `-${tag}` : ''));
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    console.log(`building the ${config ?? 'small'} int4 pack in ${dir} (export_pack.py --config ${config ?? 'small'} --random-weights ${extra.join(' ')})…`);
    const p = spawnSync('/usr/bin/python3', [path.join(repo, 'native-models/exporter/export_pack.py'), '--config', config ?? 'small', '--random-weights', ...extra, '--out', dir], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`could not build the benchmark pack (give --pack DIR): ${p.stderr.slice(-400)}`);
  }
  return dir;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0]!;
  const packDir = ensurePack();
  const m = JSON.parse(readFileSync(path.join(packDir, 'manifest.json'), 'utf8')) as Manifest;
  const factory = new SessionFactory({ forced: process.env.VANTAGE_EP });
  const gpu = new GpuMemory();
  gpu.start();
  console.log(`pack ${m.name} (${m.quantisation}) from ${packDir}`);
  for (const p of factory.providers) console.log(`  provider ${p.name}: ${p.available ? 'available' : `absent — ${p.reason}`}`);

  const stages: Record<string, ort.InferenceSession> = {};
  const stageProviders: Record<string, ProviderName> = {};
  if (Object.keys(ortEnv).length) console.log(`  onnxruntime environment: ${Object.entries(ortEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  // the decoder the CPU runs, as the app loads it: int8 compute unless VANTAGE_CPU_INT8=0 (cpuInt8.ts)
  const decoderFile = path.join(packDir, m.stages.decoder!.file);
  let cpuInt8: CpuGraph | null | undefined; // rewritten on first use, by a CPU session only
  const cpuGraph = () => (cpuInt8 === undefined ? (cpuInt8 = cpuInt8Decoder(decoderFile)) : cpuInt8);
  for (const [name, s] of Object.entries(m.stages)) {
    if (decodeOnly && name !== 'embed' && name !== 'decoder') continue;
    const created = await factory.create(name, path.join(packDir, s.file), name === 'decoder' ? cpuGraph : undefined);
    stages[name] = created.session;
    stageProviders[name] = created.provider;
  }
  const provider = stageProviders.decoder ?? 'cpu';
  const onGpu = provider !== 'cpu';
  /** the decoder graph CPU sessions load, as the app loads it: int8 compute unless VANTAGE_CPU_INT8=0 (cpuInt8.ts) */
  const cpuDecoder = () => cpuGraph() ?? decoderFile;
  if (!onGpu) console.log(`  CPU decoder: ${cpuGraph() ? `int8 compute (accuracy_level 4 on ${cpuGraph()!.patched} MatMulNBits)` : 'the pack\'s graph as is'}`);
  console.log(`  stages on: ${Object.entries(stageProviders).map(([k, v]) => `${k}=${v}`).join(', ')}`);

  // ---- limits
  const limitOpts: ort.InferenceSession.SessionOptions = { executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 } as ort.InferenceSession.ExecutionProviderConfig] : [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const dt = onGpu ? 'fp16' : 'fp32';
  const elBytes = onGpu ? 2 : 4;
  let bandwidth: number, bwMs: number, bwProbe: string;
  if (onGpu) {
    const bwSession = await ort.InferenceSession.create(path.join(here, 'graphs', `bandwidth_${dt}.onnx`), limitOpts);
    const bwElems = 2 ** 30; // 2 GiB fp16
    bwMs = await bestOf(20, () => bwSession.run({ shape: new ort.Tensor('int64', BigInt64Array.from([BigInt(bwElems)]), [1]) }));
    bandwidth = (2 * bwElems * elBytes) / (bwMs / 1e3); // bytes/s: one write + one read of the buffer
    bwProbe = `${dt} write+read of ${(bwElems * elBytes) / 2 ** 30} GiB on device`;
  } else {
    // host memory: a copy on `threads` threads at once, read + write counted (cpuBandwidth.ts)
    const c = await copyBandwidth(threads);
    bandwidth = c.bytesPerSecond;
    bwMs = c.bestMs;
    bwProbe = `${c.threads}-thread copy of ${c.bufferBytes / 2 ** 20} MiB, read + write counted (best of 8)`;
  }
  const mmSession = await ort.InferenceSession.create(path.join(here, 'graphs', `matmul_${dt}.onnx`), limitOpts);
  const n = onGpu ? 8192 : 1024;
  const mmMs = await bestOf(onGpu ? 20 : 8, () => mmSession.run({ shape: new ort.Tensor('int64', BigInt64Array.from([BigInt(n), BigInt(n)]), [2]) }));
  const flops = (2 * n ** 3) / (mmMs / 1e3);
  console.log(`limits: memory bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s (${bwProbe}, ${bwMs.toFixed(2)} ms); ` +
    `${dt} matmul ${(flops / 1e12).toFixed(3)} TFLOP/s (${n}², ${mmMs.toFixed(2)} ms)`);

  // ---- stage limits: vision per view, grounding per tile, pixel decoder per click (the app's path is timed below)
  const L = m.llm;
  const dec = stages.decoder!;
  const S = m.view.size, V = Math.min(5, m.view.maxViews);
  /** the grounding stage's input side (manifest grounding.size; SAM packs 1024), else the view's */
  const G = m.grounding.size ?? S;
  const per: Record<string, number> = {};
  if (stages.vision) {
    per.visionMsPerView = await timeIt(3, () => stages.vision!.run({ pixel_values: f32([1, 3, S, S], 0.1) }));
    console.log(`vision ${per.visionMsPerView.toFixed(2)} ms/view`);
  }
  if (stages.grounding && stages.pixel) {
    per.groundingMsPerTile = await timeIt(3, () => stages.grounding!.run({ pixel_values: f32([1, 3, G, G], 0.1) }));
    const emb = (await stages.grounding.run({ pixel_values: f32([1, 3, G, G], 0.1) })).image_embeddings!;
    const click = () => stages.pixel!.run({ image_embeddings: emb, seg_hidden: f32([1, L.hidden]), has_seg: f32([1], 0), points: new ort.Tensor('float32', Float32Array.from([G / 2, G / 2]), [1, 1, 2]), point_labels: f32([1, 1], 1) });
    per.pixelMsPerClick = await timeIt(10, click);
    console.log(`grounding ${per.groundingMsPerTile.toFixed(2)} ms/tile; pixel decoder ${per.pixelMsPerClick.toFixed(2)} ms/click (click → mask target ≤ 50 ms)`);
  }
  // ---- decode at 128 / 2048 context, through each way the app can run the loop (decodeRunner.ts), in one run
  const ex = m.exporter;
  const layout: ByteLayout = ex ? { linears: ex.linears, scaleBytes: ex.scaleBytes, denseBytes: ex.denseBytes, kvBytes: ex.kvBytes, blockSize: ex.blockSize, zeroPoints: ex.zeroPoints } : { linears: 'fp32', scaleBytes: 4, denseBytes: 4, kvBytes: 4 };
  const shape = { ...L, intermediate: ex?.intermediate ?? 2 * L.hidden };
  // --decode-contexts 128 --steps 4: a short run (e.g. under a kernel profiler: gpu-session.sh kernels)
  const contexts = (arg('decode-contexts') ?? '128,2048').split(',').map(Number).filter((c) => c + 64 <= L.maxContext);
  const steps = Number(arg('steps') ?? (onGpu ? 64 : 16));
  const noTimer = () => undefined;
  const native = loadNativeOrt();
  const nativeProvider = provider === 'cuda' ? 'cuda' : 'cpu';
  // each binding opens its sessions once; every context gets a fresh conversation (a new runner) on them
  type Opened = { runner: () => DecodeRunner; close: () => void };
  const reuse = (make: () => DecodeRunner, release = () => undefined as void): Opened => {
    let live: DecodeRunner | null = null;
    return {
      runner: () => {
        live?.dispose();
        return (live = make());
      },
      close: () => {
        live?.dispose();
        live = null;
        release();
      },
    };
  };
  const bindings: { name: string; open: () => Opened }[] = [
    { name: 'stock onnxruntime-node', open: () => reuse(() => new StockDecodeRunner(stages.embed!, dec, L, noTimer)) },
  ];
  const nativeVariants: [string, { staticKv: boolean; cudaGraph: boolean }][] = [['native IO binding, KV on device', { staticKv: false, cudaGraph: false }]];
  if (m.llm.staticKvCache) {
    nativeVariants.push(['native IO binding, KV in place', { staticKv: true, cudaGraph: false }]);
    if (nativeProvider === 'cuda') nativeVariants.push(['native IO binding, KV in place, CUDA graph', { staticKv: true, cudaGraph: true }]);
  }
  if (native.addon && (provider === 'cuda' || provider === 'cpu')) {
    for (const [name, v] of nativeVariants) {
      bindings.push({
        name,
        open: () => {
          const n = NativeDecodeSessions.create(native.addon!, { embed: path.join(packDir, m.stages.embed!.file), decoder: nativeProvider === 'cpu' ? cpuDecoder() : decoderFile }, L, { provider: nativeProvider, ...v });
          return reuse(() => new NativeDecodeRunner(n, noTimer), () => n.release());
        },
      });
    }
  } else {
    console.log(`  native binding not measured: ${native.reason ?? `provider ${provider}`}`);
  }
  const decode: Record<string, unknown>[] = [];
  const top1ByContext = new Map<number, number[]>();
  const D = L.hidden;
  gpu.takePeak();
  const measured = bindings.filter((b) => !bindingFilter || bindingFilter.test(b.name));
  if (bindingFilter) console.log(`  decode bindings matching /${bindingFilter.source}/i: ${measured.map((b) => b.name).join('; ') || 'none'}`);
  // the stock decoder is needed only by the stock binding: its device memory is freed before the native sessions load
  let stockReleased = false;
  const releaseStock = async () => {
    if (stockReleased) return;
    stockReleased = true;
    await stages.decoder?.release();
    await stages.embed?.release();
  };
  if (measured[0] !== bindings[0]) await releaseStock();
  for (const b of quick ? [] : measured) {
    let made: Opened;
    try {
      made = b.open();
    } catch (err) {
      console.log(`decode [${b.name}]: could not start — ${(err as Error).message.split('\n')[0]}`);
      decode.push({ binding: b.name, error: (err as Error).message.split('\n')[0] });
      continue;
    }
    try {
      for (const ctx of contexts) {
        // a fresh conversation per context: prefill ctx positions, one warm-up token, then `steps` timed tokens
        const r = made.runner();
        await r.prefill(new Float32Array(ctx * D).fill(0.01), ctx);
        await r.next(5);
        const t0 = now();
        const top1: number[] = [];
        for (let s = 0; s < steps; s++) {
          await r.next(5 + (s % 7));
          top1.push(argmax(r.lastLogits())); // the sampler's read of one row of logits, as in the app
        }
        const msPerToken = (now() - t0) / steps;
        // every binding is fed the same tokens: its top-1 per step should match the first binding measured
        const ref = top1ByContext.get(ctx);
        if (!ref) top1ByContext.set(ctx, top1);
        const agreement = ref ? top1.filter((t, i) => t === ref[i]).length / top1.length : 1;
        const bytes = bytesPerToken(shape, layout, ctx + 1 + steps / 2);
        const floorMs = (bytes.total / bandwidth) * 1e3;
        const base = decode.find((d) => d.binding === bindings[0]!.name && d.context === ctx) as { msPerToken: number } | undefined;
        decode.push({
          binding: b.name, context: ctx, tokensPerSecond: round(1e3 / msPerToken, 1), msPerToken: round(msPerToken), bytesReadPerToken: bytes.total,
          floorMs: round(floorMs, 4), ratioToLimit: round(floorMs / msPerToken, 4), overheadMsBeyondFloor: round(msPerToken - floorMs),
          speedupVsStock: base ? round(base.msPerToken / msPerToken, 3) : null,
          top1AgreementWithFirst: round(agreement, 3),
        });
        console.log(`decode @${ctx} [${b.name}]: ${(1e3 / msPerToken).toFixed(1)} tok/s (${msPerToken.toFixed(2)} ms/token); limit ${(1e3 / floorMs).toFixed(0)} tok/s ` +
          `(${(bytes.total / 2 ** 20).toFixed(2)} MiB read/token) → ratio ${(floorMs / msPerToken).toFixed(3)}, overhead ${(msPerToken - floorMs).toFixed(2)} ms/token` +
          (base ? `, ${(base.msPerToken / msPerToken).toFixed(2)}× stock` : '') + (ref ? `; top-1 agrees with [${measured[0]!.name}] on ${Math.round(agreement * steps)}/${steps} steps` : ''));
      }
    } catch (err) {
      console.log(`decode [${b.name}]: failed — ${(err as Error).message.split('\n')[0]}`);
      decode.push({ binding: b.name, error: (err as Error).message.split('\n')[0] });
    } finally {
      made.close();
      const peakGpu = gpu.takePeak();
      for (const d of decode) if (d.binding === b.name) d.peakGpuMiB = peakGpu;
      if (b === bindings[0]) await releaseStock();
    }
  }
  if (quick) await releaseStock();
  const fastest = contexts.flatMap((ctx) => {
    const rows = decode.filter((d) => d.context === ctx && typeof d.msPerToken === 'number') as { binding: string; msPerToken: number }[];
    if (!rows.length) return [];
    const best = rows.reduce((a, r) => (r.msPerToken < a.msPerToken ? r : a), rows[0]!);
    return [{ context: ctx, binding: best.binding }];
  });
  if (fastest.length) console.log(`fastest binding: ${fastest.map((f) => `@${f.context} ${f.binding}`).join('; ')}`);

  // ---- llama.cpp on the same shapes, interleaved pair by pair with our fastest CPU binding (issue 16)
  const llamaCpp = await compareWithLlamaCpp({ packDir, m, shape, layout, bandwidth, onGpu, native, D, cpuDecoder: onGpu ? decoderFile : cpuDecoder() });
  // ---- issue 16's levers, each against the default export in the same run (levers.ts), and where the time goes
  let levers: Record<string, unknown> | undefined;
  if (flag('levers')) {
    levers = onGpu || !native.addon ? { skipped: onGpu ? 'CPU levers: run without CUDA (VANTAGE_EP=cpu)' : `native addon absent: ${native.reason}` }
      : await runLevers({ repo, packDir, manifest: m, addon: native.addon, pairs, steps: pairSteps, contexts: pairContexts, log: (x) => console.log(x) });
  }
  let opProfileResult: Awaited<ReturnType<typeof opProfile>> | undefined;
  if (flag('profile') && !onGpu) {
    opProfileResult = await opProfile(packDir, m, 128, quick ? 4 : 8, 512, cpuDecoder());
    for (const [k, v] of Object.entries({ 'decode @128 (per token)': opProfileResult.decode.ops, 'prefill 512': opProfileResult.prefill.ops })) {
      if (v) console.log(`op profile, ${k}: ${v.kernelMsPerRun} ms of kernels — ${v.byOp.slice(0, 6).map((o) => `${o.op} ${(o.share * 100).toFixed(1)}%`).join(', ')}`);
    }
  }

  // ---- the app's own path (InferencePipeline, as the worker runs it): TTFT for one global view + 4 sub-images +
  // a region, and click → mask on a new tile (grounding + pixel) and on a cached one (pixel only)
  for (const [name, sess] of Object.entries(stages)) if (name !== 'decoder' && name !== 'embed') await sess.release();
  let ttft = NaN;
  if (quick || decodeOnly) console.log(`app path: not measured (${quick ? '--quick' : '--decode-only'})`);
  let appDecode: string | null = null;
  const click: Record<string, number> = {};
  if (!quick && !decodeOnly) try {
    const pipe = await InferencePipeline.create(packDir, { forced: process.env.VANTAGE_EP });
    appDecode = pipe.decodePath;
    try {
      const W = 4 * S; // a 4S × 4S image: the global view plus four quarter views
      const rects: [number, number, number, number][] = [[0, 0, W, W], [0, 0, W / 2, W / 2], [W / 2, 0, W, W / 2], [0, W / 2, W / 2, W], [W / 2, W / 2, W, W]];
      const rng = seededRandom(7);
      const views = rects.slice(0, V).map((rect, i) => ({ rect, rgb: Uint8Array.from({ length: S * S * 3 }, () => Math.floor(rng() * 256)), key: `bench-${i}` }));
      const input: AskInput = {
        views, regions: [{ kind: 'box', x0: W / 8, y0: W / 8, x1: W / 3, y1: W / 3 }], text: 'What is in <region1>? Describe it and how it relates to the surroundings.',
        history: [], source: 'optical', mode: 'chat', maxNewTokens: 1, sampling: { temperature: 0, topP: 1, seed: 0 },
      };
      const noop = { onToken: () => undefined, onMask: () => undefined };
      await pipe.ask(input, noop); // warm-up
      const runs: number[] = [];
      for (let k = 0; k < 3; k++) {
        const t0 = now();
        await pipe.ask(input, noop); // one new token: vision + prompt + embed + prefill + the first sample
        runs.push(now() - t0);
      }
      ttft = Math.min(...runs);
      if (pipe.canSegment()) {
        const pt = (x: number) => ({ kind: 'point' as const, x, y: x });
        // an instant-mask tile at the grounding stage's own size, as InstantMaskService reads it
        const tile = { rect: views[0]!.rect, rgb: Uint8Array.from({ length: G * G * 3 }, () => Math.floor(rng() * 256)) };
        await pipe.instantMask({ ...tile, key: 'warm' }, pt(S));
        // the pipeline's own stage timers split each click into session runs (grounding, pixel) and the rest (host)
        const stageMs = (k: 'grounding' | 'pixel') => pipe.stageTimes[k]?.ms ?? 0;
        const g0 = stageMs('grounding'), p0 = stageMs('pixel');
        const t0 = now();
        await pipe.instantMask({ ...tile, key: 'fresh-tile' }, pt(S));
        click.newTileMs = now() - t0;
        click.newTileGroundingRunMs = stageMs('grounding') - g0;
        click.newTilePixelRunMs = stageMs('pixel') - p0;
        const p1 = stageMs('pixel');
        const t1 = now();
        for (let k = 0; k < 10; k++) await pipe.instantMask({ ...tile, key: 'fresh-tile' }, pt(S + k));
        click.cachedTileMs = (now() - t1) / 10;
        click.cachedTilePixelRunMs = (stageMs('pixel') - p1) / 10;
      }
    } finally {
      await pipe.dispose();
    }
    console.log(`app path (${appDecode}): TTFT ${ttft.toFixed(1)} ms for 1 global + ${V - 1} sub-images + 1 region` +
      (click.newTileMs !== undefined ? `; click → mask ${click.newTileMs.toFixed(1)} ms on a new tile (session runs: grounding ${click.newTileGroundingRunMs!.toFixed(1)}, ` +
        `pixel ${click.newTilePixelRunMs!.toFixed(1)}), ${click.cachedTileMs!.toFixed(1)} ms cached (pixel run ${click.cachedTilePixelRunMs!.toFixed(1)}; target ≤ 50 ms)` : ''));
  } catch (err) {
    console.log(`app path: failed — ${(err as Error).message.split('\n')[0]}`);
  }
  gpu.stop();
  const peak = { gpuMiB: gpu.peakMiB, hostMiB: round(hostPeakMiB(), 1) };
  console.log(`peak memory: ${gpu.peakMiB === null ? 'no nvidia-smi (no NVIDIA GPU)' : `${gpu.peakMiB} MiB GPU`}; host ${peak.hostMiB} MiB`);

  const req = createRequire(import.meta.url);
  const ortVersion = (req('onnxruntime-node/package.json') as { version: string }).version;
  const result = {
    date: new Date().toISOString(),
    machine: { host: os.hostname(), cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGiB: round(os.totalmem() / 2 ** 30, 1), gpu: gpu.info,
      // 1-minute load average at the start and the end: a shared machine's other jobs show here
      loadAverage: [round(loadAtStart, 2), round(os.loadavg()[0]!, 2)] },
    versions: { node: process.version, onnxruntimeNode: ortVersion },
    onnxruntimeEnv: ortEnv,
    cpuDecoderInt8: cpuInt8 ? { accuracyLevel: 4, matMulNBitsPatched: cpuInt8.patched } : null, // null: not used or not applicable
    ...(bindingFilter || decodeOnly ? { selection: { bindings: bindingFilter?.source ?? null, decodeOnly } } : {}),
    pack: { name: m.name, quantisation: m.quantisation, llm: m.llm, intermediate: shape.intermediate, byteLayout: layout },
    providers: factory.providers,
    stageProviders,
    limits: { bandwidthGBs: round(bandwidth / 1e9, 2), bandwidthProbe: bwProbe, matmulTFlops: round(flops / 1e12, 4), matmulDtype: dt, matmulN: n },
    decode,
    fastestBinding: fastest,
    llamaCpp,
    ...(levers ? { levers } : {}),
    ...(opProfileResult ? { opProfile: opProfileResult } : {}),
    nativeAddon: native.addon ? { file: native.file ? path.relative(repo, native.file) : null, onnxruntime: native.addon.version() } : { reason: native.reason },
    ttftMs: round(ttft, 2),
    appPath: { decode: appDecode, clickToMaskMs: Object.fromEntries(Object.entries(click).map(([k, v]) => [k, round(v, 2)])) },
    stages: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, round(v)])),
    peakMemory: peak,
    notes: [
      'decode is measured per binding: the stock onnxruntime-node binding copies the KV cache through host memory every step; the native IO-binding addon keeps it on the device (in place for static-cache packs)',
      onGpu ? 'GPU run' : 'no CUDA provider here: CPU figures (the limits are host-memory bandwidth and CPU fp32 matmul)',
    ],
  };
  const outFile = arg('out') ?? path.join(here, 'results', `${provider}-${m.name}-${os.hostname()}.json`);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results → ${path.relative(repo, outFile)}`);
}

interface CompareInput {
  packDir: string;
  m: Manifest;
  shape: Manifest['llm'] & { intermediate: number };
  layout: ByteLayout;
  bandwidth: number;
  onGpu: boolean;
  native: ReturnType<typeof loadNativeOrt>;
  D: number;
  /** the decoder graph the app's CPU sessions load (int8 compute: cpuInt8.ts) */
  cpuDecoder: string | CpuGraph;
}

/** our decode runner for the comparison: the native addon in place when the pack allows, else on device, else stock */
async function oursForComparison(c: CompareInput): Promise<{ binding: string; runner: () => DecodeRunner; close: () => Promise<void> }> {
  const L = c.m.llm;
  const files = { embed: path.join(c.packDir, c.m.stages.embed!.file), decoder: c.cpuDecoder };
  if (c.native.addon) {
    const staticKv = !!L.staticKvCache;
    const n = NativeDecodeSessions.create(c.native.addon, files, L, { provider: 'cpu', staticKv, cudaGraph: false });
    let live: DecodeRunner | null = null;
    return {
      binding: staticKv ? 'native IO binding, KV in place' : 'native IO binding, KV on device',
      runner: () => {
        live?.dispose();
        return (live = new NativeDecodeRunner(n, () => undefined));
      },
      close: async () => {
        live?.dispose();
        n.release();
      },
    };
  }
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const embed = await ort.InferenceSession.create(files.embed, opts);
  const dec = await createCpuSession(files.decoder, opts);
  let live: DecodeRunner | null = null;
  return {
    binding: 'stock onnxruntime-node',
    runner: () => {
      live?.dispose();
      return (live = new StockDecodeRunner(embed, dec, L, () => undefined));
    },
    close: async () => {
      live?.dispose();
      await dec.release();
      await embed.release();
    },
  };
}

async function compareWithLlamaCpp(c: CompareInput): Promise<Record<string, unknown>> {
  if (flag('no-llamacpp')) return { skipped: '--no-llamacpp' };
  if (c.onGpu) return { skipped: "GPU run: node-llama-cpp's linux-x64 binary here is CPU-only (its CUDA build is a separate step)" };
  const { m, shape, layout, bandwidth, D } = c;
  const gShape: GgufShape = { hidden: shape.hidden, layers: shape.layers, heads: shape.heads, kvHeads: shape.kvHeads, headDim: shape.headDim, intermediate: shape.intermediate, vocab: shape.vocab, maxContext: shape.maxContext };
  const dense = layout.denseBytes === 2 ? 'f16' : 'f32';
  let gguf: BuiltGguf;
  try {
    gguf = await buildGguf(repo, gShape, dense, (s) => console.log(s));
  } catch (err) {
    const reason = (err as Error).message;
    console.log(`llama.cpp: not measured — ${reason}`);
    return { skipped: reason };
  }
  console.log(`llama.cpp model: ${gguf.file} (${(gguf.bytes / 2 ** 20).toFixed(0)} MiB${gguf.cached ? ', reused' : `, built in ${gguf.buildSeconds.toFixed(0)} s`})`);
  const grow = pairs * pairSteps + 1;
  const ctxs = pairContexts.filter((x) => x + grow <= m.llm.maxContext);
  const ctxSize = Math.ceil((Math.max(512, ...ctxs) + grow + 8) / 256) * 256;
  let llama: LlamaCppRunner | null = null;
  let ours: Awaited<ReturnType<typeof oursForComparison>> | null = null;
  try {
    llama = await openLlamaCpp(repo, gguf.file, threads, ctxSize, shape.vocab);
    ours = await oursForComparison(c);
    console.log(`vs llama.cpp: ours = ${ours.binding} (onnxruntime intra-op threads: its default, the ${os.availableParallelism()} cores here); ` +
      `llama.cpp = ${llama.describe}; ${pairs} interleaved pairs of ${pairSteps} tokens`);
    const llamaDense = dense === 'f16' ? 2 : 4;
    const side = (ms: number, bytes: number) => {
      const floorMs = (bytes / bandwidth) * 1e3;
      return { tokensPerSecond: round(1e3 / ms, 2), msPerToken: round(ms), bytesReadPerToken: bytes, floorMs: round(floorMs, 3), ratioToFloor: round(floorMs / ms, 4) };
    };
    const lc = llama;
    const llamaSide: TimedSide = {
      prefill: (n) => lc.prefill(n),
      open: async (ctx) => { await lc.prefill(ctx); await lc.next(0); },
      tokens: async (k) => {
        const t0 = now();
        for (let s = 0; s < k; s++) await lc.next(s);
        return (now() - t0) / k;
      },
    };
    const oursSide = runnerSide(ours.runner, D);
    // a = llama.cpp, b = ours: ratio = llama.cpp ms / our ms (≥ 1: ours at least as fast)
    const P = 512;
    const pairLog: PairLog = (what, i, p) => console.log(`  ${what} pair ${i + 1}/${pairs}: llama.cpp ${p.aMs.toFixed(1)} ms, ours ${p.bMs.toFixed(1)} ms`);
    const pf = await pairedPrefill(llamaSide, oursSide, P, pairs, pairLog);
    const prefill = { tokens: P, pairs, oursMs: round(pf.bMs, 1), llamaCppMs: round(pf.aMs, 1), ratioToLlamaCpp: pf.ratio, pairsAtLeast1: pf.pairsAtLeast1, meets: pf.meets,
      perPair: pf.perPair.map((p) => ({ oursMs: p.bMs, llamaCppMs: p.aMs })) };
    console.log(`prefill ${P}: ours ${prefill.oursMs} ms, llama.cpp ${prefill.llamaCppMs} ms → llama.cpp time / ours ${prefill.ratioToLlamaCpp} (${prefill.pairsAtLeast1}/${pairs} pairs ≥ 1)`);
    const decodeRows: Record<string, unknown>[] = [];
    for (const ctx of ctxs) {
      const d = await pairedDecode(llamaSide, oursSide, ctx, pairs, pairSteps, pairLog);
      const mid = ctx + 1 + grow / 2;
      const row = {
        context: ctx, contextRange: [ctx + 1, ctx + grow], pairs, tokensPerPair: pairSteps,
        ours: { binding: ours.binding, ...side(d.bMs, bytesPerToken(shape, layout, mid).total) },
        llamaCpp: side(d.aMs, ggufBytesPerToken(gShape, llamaDense, mid).total),
        ratioToLlamaCpp: d.ratio, pairsAtLeast1: d.pairsAtLeast1, meets: d.meets, perPair: d.perPair.map((p) => ({ oursMs: p.bMs, llamaCppMs: p.aMs })),
      };
      decodeRows.push(row);
      console.log(`decode @${ctx} (context ${ctx + 1}–${ctx + grow}): ours ${row.ours.tokensPerSecond} tok/s (${(row.ours.bytesReadPerToken / 2 ** 20).toFixed(1)} MiB/token, ${row.ours.ratioToFloor} of the floor), ` +
        `llama.cpp ${row.llamaCpp.tokensPerSecond} tok/s (${(row.llamaCpp.bytesReadPerToken / 2 ** 20).toFixed(1)} MiB/token, ${row.llamaCpp.ratioToFloor} of the floor) → ours/llama.cpp ${row.ratioToLlamaCpp} (${row.pairsAtLeast1}/${pairs} pairs ≥ 1)`);
    }
    const ratiosPerContext: Record<string, number> = { prefill512: prefill.ratioToLlamaCpp };
    for (const d of decodeRows as { context: number; ratioToLlamaCpp: number }[]) ratiosPerContext[`decode${d.context}`] = d.ratioToLlamaCpp;
    return {
      describe: llama.describe, threads, ours: ours.binding, gguf: { file: path.basename(gguf.file), bytes: gguf.bytes, buildSeconds: round(gguf.buildSeconds, 1), converter: 'convert_hf_to_gguf.py (Q4_0 linears via gguf-py, ' + `${dense} token embedding + output layer)`, python: gguf.python },
      release: gguf.llamaCpp, contextSize: llama.contextSize, flashAttention: llama.flashAttention, kvCache: 'F16',
      ratiosPerContext, prefill, decode: decodeRows,
      note: 'ratioToLlamaCpp = llama.cpp ms / our ms per pair (≥ 1: ours at least as fast), median of the pairs; pairsAtLeast1 counts the pairs at ≥ 1',
    };
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0]!;
    console.log(`llama.cpp comparison failed — ${reason}`);
    return { error: reason };
  } finally {
    await ours?.close();
    await llama?.dispose();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
