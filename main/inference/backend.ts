import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { VantageError } from '../contract/errors.js';
import { ExecutionProvider } from '../contract/schemas.js';
import { packCapabilities, type PackCapabilities } from './capabilities.js';
import { CPU_INT8_LEVEL, cpuInt8Decoder, createCpuSession, type CpuGraph } from './cpuInt8.js';
import { NativeDecodeRunner, NativeDecodeSessions, StockDecodeRunner, type DecodeRunner, type NativeDecodeOptions } from './decodeRunner.js';
import { loadNativeOrt, type NativeOrt, type NativeSession } from './nativeOrt.js';
import { STAGE_NAMES, type LoadedPackInfo, type PackManifest, type StageName } from './packManifest.js';
import type { ProviderStatus } from './protocol.js';
import { checkStageShapes, type GraphMetadata } from './shapeCheck.js';

/**
 * The backend: the one module that chooses execution providers — for the stock onnxruntime-node binding and for the
 * IO-binding addon alike — and creates a pack's stage sessions. Ladder: cuda → webgpu → cpu. Each stage's session
 * is created on the best provider that accepts it; every provider that was skipped or failed keeps the reason, so
 * the UI can say why the model is slow. What the loaded pack can then do is its PackCapabilities (capabilities.ts).
 */

export const PROVIDER_NAMES = ExecutionProvider.options;
export type ProviderName = ExecutionProvider;
export type { ProviderStatus };

/** the providers the IO-binding addon drives (it has no WebGPU) */
const NATIVE_PROVIDERS = ['cuda', 'cpu'] as const;
type NativeProvider = (typeof NATIVE_PROVIDERS)[number];

export interface ProviderOptions {
  /** VANTAGE_EP: restricts the ladder to one provider (failing loudly if it cannot be used) */
  forced?: string | undefined;
  /**
   * Whether a hardware GPU adapter is known to exist (webgpuProbe.ts, run by the host in a child process). WebGPU is
   * otherwise skipped: on a machine without a usable adapter Dawn's adapter discovery can block the worker thread
   * inside native code for a long time (or crash it), and nothing on the JS side can interrupt a synchronous session
   * creation.
   */
  webgpuAdapterKnown?: boolean | undefined;
  /** what the probe found, shown in WebGPU's reason when it is skipped */
  webgpuReason?: string | undefined;
}

function bindingDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const entry = req.resolve('onnxruntime-node');
    return path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

function cudaLibraryName(): string {
  return process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

/** Which providers could be tried, before any session is created. Pure inspection: never touches a GPU. */
export function probeProviders(opts: ProviderOptions = {}): ProviderStatus[] {
  const forced = parseForced(opts.forced);
  let listed: { name: string; bundled: boolean }[] = [];
  try {
    listed = ort.listSupportedBackends();
  } catch {
    listed = [{ name: 'cpu', bundled: true }];
  }
  const has = (n: string) => listed.find((b) => b.name === n);
  const dir = bindingDir();

  const statuses: ProviderStatus[] = [];
  for (const name of PROVIDER_NAMES) {
    let reason: string | null = null;
    if (forced && forced !== name) reason = `not selected (VANTAGE_EP=${forced})`;
    else if (name === 'cuda') {
      const b = has('cuda');
      if (!b) reason = 'this onnxruntime-node build has no CUDA provider';
      else if (!b.bundled && !(dir && existsSync(path.join(dir, cudaLibraryName()))))
        reason = `CUDA provider library not installed (${cudaLibraryName()} not found beside the onnxruntime binding)`;
    } else if (name === 'webgpu') {
      if (!has('webgpu')) reason = 'this onnxruntime-node build has no WebGPU provider';
      else if (!opts.webgpuAdapterKnown && forced !== 'webgpu') {
        const probe = opts.webgpuReason ? ` (${opts.webgpuReason})` : '';
        reason = `no GPU adapter reported by the host${probe} (set VANTAGE_EP=webgpu to try it anyway)`;
      }
    }
    statuses.push({ name, available: reason === null, reason });
  }
  return statuses;
}

function parseForced(v: string | undefined): ProviderName | null {
  if (v === undefined || v === '') return null;
  const low = v.toLowerCase();
  if ((PROVIDER_NAMES as readonly string[]).includes(low)) return low as ProviderName;
  throw new VantageError('BAD_INPUT', `VANTAGE_EP="${v}" is not an execution provider; use one of ${PROVIDER_NAMES.join(', ')} (or unset it for automatic choice)`);
}

/** onnxruntime's message without its source-file preamble ("…/provider_bridge_ort.cc:1988 … : FAIL : "). */
export function shortOrtError(msg: string): string {
  const line = msg.split('\n')[0] ?? msg;
  const m = /\[ONNXRuntimeError\] : \d+ : \w+ : (.*)$/.exec(line);
  return (m?.[1] ?? line).trim();
}

function sessionOptions(ep: ProviderName): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    ep === 'cuda' ? [{ name: 'cuda', deviceId: 0 } as ort.InferenceSession.ExecutionProviderConfig] : [ep];
  return { executionProviders, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
}

export interface StageSession {
  session: ort.InferenceSession;
  provider: ProviderName;
}

/**
 * Creates sessions one at a time (serialised: parallel creation on one GPU only fights over memory and makes
 * failures ambiguous) and walks the ladder per stage, demoting a provider for later stages once it has failed.
 */
export class SessionFactory {
  readonly providers: ProviderStatus[];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ProviderOptions = {}) {
    this.providers = probeProviders(opts);
    if (opts.forced && !this.providers.some((p) => p.available)) {
      const p = this.providers.find((s) => s.name === opts.forced?.toLowerCase());
      throw new VantageError('UNSUPPORTED', `VANTAGE_EP=${opts.forced} cannot be used: ${p?.reason ?? 'unavailable'}; unset it or choose one of ${PROVIDER_NAMES.join(', ')}`);
    }
  }

  /**
   * `cpuGraph`: the graph the CPU provider gets instead of `file` (the decoder with int8 compute, cpuInt8.ts), asked
   * for only when the ladder reaches the CPU (a GPU session never pays for the rewrite)
   */
  create(stage: string, file: string, cpuGraph?: () => CpuGraph | null): Promise<StageSession> {
    const run = this.queue.then(() => this.createNow(stage, file, cpuGraph));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** the providers the IO-binding addon could run the decode stages on, best first (empty when forced to webgpu) */
  nativeLadder(): NativeProvider[] {
    return this.providers.filter((p) => p.available && (NATIVE_PROVIDERS as readonly string[]).includes(p.name)).map((p) => p.name as NativeProvider);
  }

  private async createNow(stage: string, file: string, cpuGraph?: () => CpuGraph | null): Promise<StageSession> {
    const errors: string[] = [];
    for (const p of this.providers) {
      if (!p.available) continue;
      try {
        const g = p.name === 'cpu' ? cpuGraph?.() : null;
        const session = g ? await createCpuSession(g, sessionOptions(p.name)) : await ort.InferenceSession.create(file, sessionOptions(p.name));
        return { session, provider: p.name };
      } catch (err) {
        const msg = shortOrtError((err as Error).message ?? String(err));
        errors.push(`${p.name}: ${msg}`);
        if (p.name !== 'cpu') {
          // A GPU provider that cannot build one stage is not trusted with the next ones either.
          p.available = false;
          p.reason = `failed to create the ${stage} session: ${msg}`;
        }
      }
    }
    throw new VantageError('INTERNAL', `could not create the ${stage} session on any execution provider (${errors.join('; ') || 'none available'})`);
  }
}

// ------------------------------------------------------------------------------------------------- native decode
/** Whether and how the native path runs a pack's decoder, with the reason when it does not. */
export interface NativePlan {
  use: boolean;
  options: NativeDecodeOptions | null;
  reason: string | null;
}

export function planNativeDecode(
  addon: NativeOrt | null,
  addonReason: string | null,
  manifest: PackManifest,
  provider: NativeProvider,
  env: NodeJS.ProcessEnv = process.env,
): NativePlan {
  if (!addon) return { use: false, options: null, reason: addonReason ?? 'native addon not loaded' };
  if (!manifest.llm) return { use: false, options: null, reason: 'the pack has no decoder' };
  const staticKv = manifest.llm.staticKvCache === true && env.VANTAGE_KV_LAYOUT !== 'append';
  const cudaGraph = provider === 'cuda' && staticKv && env.VANTAGE_CUDA_GRAPH === '1';
  return { use: true, options: { provider, staticKv, cudaGraph }, reason: null };
}

/** a native session's declared tensors in onnxruntime-node's metadata shape (for the manifest shape check) */
function nativeMetadata(s: NativeSession): GraphMetadata {
  const meta = (list: NativeSession['inputs']) =>
    list.map((v) => ({ name: v.name, isTensor: true as const, type: v.type, shape: v.dims })) as unknown as GraphMetadata['inputMetadata'];
  return { inputMetadata: meta(s.inputs), outputMetadata: meta(s.outputs) };
}

// ------------------------------------------------------------------------------------------------- stage sessions
export type StageTimes = Partial<Record<StageName, { ms: number; calls: number }>>;

export interface BackendOptions extends ProviderOptions {
  /** false keeps embed + decoder on the stock binding (tests and the benchmark compare the two) */
  native?: boolean;
}

/** how decodePath says the CPU decoder computes in int8 (cpuInt8.ts) */
const INT8_NOTE = `int8 compute (MatMulNBits accuracy_level ${CPU_INT8_LEVEL}; VANTAGE_CPU_INT8=0 turns it off)`;

/** One loaded pack's sessions: which provider runs each stage, how the decode loop runs, and the stage timings. */
export class PackBackend {
  private readonly sessions: Partial<Record<StageName, ort.InferenceSession>> = {};
  /** embed + decoder on the IO-binding addon (null: the stock binding runs them) */
  private native: NativeDecodeSessions | null = null;
  readonly stageProviders: Record<string, string> = {};
  /** how the decode loop runs, in words (status bar, `vantage ask --json`, benchmark) */
  decodePath = 'stock onnxruntime-node binding';
  /** wall time per stage since load (the benchmark reads and resets it) */
  readonly stageTimes: StageTimes = {};
  private disposed = false;
  /** the decoder graph with int8 compute that CPU sessions load (cpuInt8.ts; null: the pack's own) */
  private cpuGraph: CpuGraph | null | undefined;
  /** the rewrite runs on first use: only when a decoder session is made for the CPU (during load; dropped after) */
  private cpuDecoder(): CpuGraph | null {
    const dec = this.pack.stageFiles.decoder;
    if (this.cpuGraph === undefined) this.cpuGraph = dec ? cpuInt8Decoder(dec) : null;
    return this.cpuGraph;
  }

  private constructor(
    readonly pack: LoadedPackInfo,
    readonly providers: ProviderStatus[],
  ) {}

  static async load(pack: LoadedPackInfo, opts: BackendOptions = {}): Promise<PackBackend> {
    const factory = new SessionFactory(opts);
    const b = new PackBackend(pack, factory.providers);
    try {
      if (opts.native === false) b.decodePath = 'stock onnxruntime-node binding (native path turned off by the caller)';
      else b.loadNativeDecode(factory);
      for (const stage of STAGE_NAMES) {
        const file = pack.stageFiles[stage];
        if (!file) continue;
        if (b.native && (stage === 'embed' || stage === 'decoder')) continue;
        const { session, provider } = await factory.create(stage, file, stage === 'decoder' ? () => b.cpuDecoder() : undefined);
        if (stage === 'decoder' && provider === 'cpu' && b.cpuDecoder()) b.decodePath += ` · ${INT8_NOTE}`;
        b.sessions[stage] = session;
        checkStageShapes(pack.manifest, pack.name, stage, session);
        b.stageProviders[stage] = provider;
      }
    } catch (err) {
      await b.dispose();
      throw err;
    } finally {
      // onnxruntime holds its own copy once the session exists: the rewritten graph (an inline decoder's whole size)
      // is not kept for the pack's lifetime
      b.cpuGraph = undefined;
    }
    return b;
  }

  /**
   * Runs embed + decoder on the IO-binding addon when it is built (KV cache on the device, in place for static-cache
   * packs) on the best provider the ladder allows that the addon drives (cuda, else cpu); otherwise, or when it
   * cannot make the sessions, the stock binding runs them and decodePath says why.
   */
  private loadNativeDecode(factory: SessionFactory): void {
    const { manifest, stageFiles } = this.pack;
    if (!manifest.llm || !stageFiles.embed || !stageFiles.decoder) return;
    const load = loadNativeOrt();
    const attempts = factory.nativeLadder();
    if (attempts.length === 0) return; // forced to webgpu: the addon does not drive that provider
    const plan = planNativeDecode(load.addon, load.reason, manifest, attempts[0]!);
    if (!plan.use || !plan.options || !load.addon) {
      this.decodePath = `stock onnxruntime-node binding (${plan.reason})`;
      return;
    }
    // a CUDA session that cannot start (driver, CUDA libraries) leaves the native path on the CPU, which still
    // keeps the cache out of JS; the reason stays visible in decodePath
    const failures: string[] = [];
    for (const ep of attempts) {
      const options = { ...plan.options, provider: ep, cudaGraph: ep === 'cuda' && plan.options.cudaGraph };
      let n: NativeDecodeSessions;
      try {
        const decoder = (ep === 'cpu' && this.cpuDecoder()) || stageFiles.decoder;
        n = NativeDecodeSessions.create(load.addon, { embed: stageFiles.embed, decoder }, manifest.llm, options);
      } catch (err) {
        failures.push(`native ${ep} session failed: ${shortOrtError((err as Error).message)}`);
        continue;
      }
      try {
        checkStageShapes(manifest, this.pack.name, 'embed', nativeMetadata(n.embed));
        checkStageShapes(manifest, this.pack.name, 'decoder', nativeMetadata(n.decoder));
      } catch (err) {
        n.release();
        throw err; // a malformed pack is refused whichever binding reads it
      }
      this.native = n;
      this.stageProviders.embed = ep;
      this.stageProviders.decoder = ep;
      this.decodePath = n.describe + (ep === 'cpu' && this.cpuDecoder() ? ` · ${INT8_NOTE}` : '') + (failures.length ? ` (${failures.join('; ')})` : '');
      return;
    }
    this.decodePath = `stock onnxruntime-node binding (${failures.join('; ')})`;
  }

  /** what the loaded pack can do, with the provider of every stage and the decode path */
  get capabilities(): PackCapabilities {
    return packCapabilities(this.pack, { decode: this.decodePath, stageProviders: this.stageProviders });
  }

  /** The provider that runs the answer (the decoder's), or the pixel decoder's for segmentation-only packs. */
  get provider(): string {
    return this.stageProviders.decoder ?? this.stageProviders.pixel ?? 'cpu';
  }

  stage(name: StageName, forWhat: string): ort.InferenceSession {
    if (this.disposed) throw new VantageError('CONFLICT', 'the model pack was unloaded; load it again');
    const s = this.sessions[name];
    if (!s) {
      throw new VantageError('UNSUPPORTED', `model pack "${this.pack.name}" has no ${name} stage, needed for ${forWhat}; it has ${this.pack.stages.join(', ')}`);
    }
    return s;
  }

  /** adds one call's wall time to a stage's total */
  record(stage: StageName, ms: number): void {
    const t = (this.stageTimes[stage] ??= { ms: 0, calls: 0 });
    t.ms += ms;
    t.calls++;
  }

  async timed(stage: StageName, s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const t0 = performance.now();
    try {
      return await s.run(feeds);
    } finally {
      this.record(stage, performance.now() - t0);
    }
  }

  /** the decode loop for one answer: on the addon's sessions when it runs them, else on the stock binding's */
  decodeRunner(): DecodeRunner {
    const timer = (stage: 'embed' | 'decoder', ms: number) => this.record(stage, ms);
    if (this.native) return new NativeDecodeRunner(this.native, timer);
    return new StockDecodeRunner(this.stage('embed', 'chat'), this.stage('decoder', 'chat'), this.pack.manifest.llm!, timer);
  }

  /** refuses (before any work) when the decode stages are missing */
  requireDecode(): void {
    if (this.native) return;
    this.stage('embed', 'chat');
    this.stage('decoder', 'chat');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.native?.release();
    this.native = null;
    for (const k of Object.keys(this.sessions) as StageName[]) {
      const s = this.sessions[k];
      delete this.sessions[k];
      await s?.release();
    }
  }
}
