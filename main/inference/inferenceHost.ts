import { Worker } from 'node:worker_threads';
import { VantageError } from '../contract/errors.js';
import type { RegionGeometry } from '../contract/geometry.js';
import type { ModelStatus, PackInfo } from '../contract/schemas.js';
import type { PackCapabilities } from './capabilities.js';
import type {
  AskInput,
  AskRequest,
  HostAskResult,
  InferenceEvent,
  InferencePort,
  InstantPrompt,
  MaskResult,
  ProviderStatus,
  ReadyInfo,
  ViewInput,
  WorkerReply,
  WorkerRequest,
} from './protocol.js';
import { planViews, type Rect, type ViewPlan } from './viewPlanner.js';
import type { InstantPreprocess, ViewPixelsSpec } from './viewResample.js';
import { probeWebGpu } from './webgpuProbe.js';

export type { HostAskResult };

export interface InferenceHostOptions {
  /** the bundled worker (dist/main/inferenceWorker.mjs, or buildInferenceWorker()'s output) */
  workerUrl: URL | string;
  /** restricts the EP ladder; defaults to env VANTAGE_EP */
  forcedProvider?: string | undefined;
  /** set when the host knows whether a hardware GPU adapter exists (skips the probe; see backend.ts) */
  webgpuAdapterKnown?: boolean;
  /**
   * the WebGPU probe (dist/main/webgpuProbe.mjs): run once, in a child process killed at its deadline, before the
   * first pack load that could use WebGPU; WebGPU is then tried when it found a hardware adapter
   */
  webgpuProbe?: string | undefined;
  /** a pack load that takes longer is treated as hung: the worker is terminated and the load fails */
  loadTimeoutMs?: number;
  log?: (message: string) => void;
}

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (err: VantageError) => void;
  onReply?: (reply: WorkerReply) => void;
}

/**
 * Main-thread side of the inference worker: typed requests with sequence numbers, one pending entry per
 * request, and every pending request rejected when the worker dies — so an ask never hangs on a crash.
 */
export class InferenceHost implements InferencePort {
  private worker: Worker | null = null;
  private seq = 0;
  private requestSeq = 0;
  private readonly pending = new Map<number, Pending>();
  private state: ModelStatus = { state: 'none', pack: null, stageProviders: {}, providers: [], error: null };
  private view: ReadyInfo['view'] | null = null;
  private packSources: string[] = [];
  private packCapabilities: PackCapabilities | null = null;

  constructor(private readonly opts: InferenceHostOptions) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.opts.workerUrl, { stdout: false, stderr: false });
    w.on('message', (msg: WorkerReply) => this.onMessage(msg));
    w.on('error', (err) => this.onWorkerGone(w, `crashed: ${err.message}`));
    w.on('exit', (code) => this.onWorkerGone(w, `exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private onWorkerGone(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    const err = new VantageError('INTERNAL', `the inference worker ${why}; load the model pack again`);
    if (this.state.state === 'ready' || this.state.state === 'loading') this.state = { ...this.state, state: 'error', error: err.message };
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private onMessage(msg: WorkerReply): void {
    const p = this.pending.get(msg.seq);
    if (!p) return;
    switch (msg.type) {
      case 'token':
      case 'mask':
        p.onReply?.(msg);
        return;
      case 'slow':
        this.opts.log?.(`inference worker: ${msg.request} took ${Math.round(msg.ms)} ms`);
        return;
      case 'error':
        this.pending.delete(msg.seq);
        p.reject(VantageError.from(msg.error));
        return;
      default:
        this.pending.delete(msg.seq);
        p.resolve(msg);
    }
  }

  private request(msg: WorkerRequest, transfer: ArrayBuffer[] = [], onReply?: (r: WorkerReply) => void): Promise<WorkerReply> {
    const w = this.ensureWorker();
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(msg.seq, { resolve, reject, onReply });
      w.postMessage(msg, transfer);
    });
  }

  async loadPack(dir: string): Promise<{ pack: PackInfo; stageProviders: Record<string, string>; providers: ProviderStatus[] }> {
    this.state = { ...this.state, state: 'loading', error: null };
    const seq = ++this.seq;
    const timeoutMs = this.opts.loadTimeoutMs ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const forcedProvider = this.opts.forcedProvider ?? process.env.VANTAGE_EP;
      const webgpu = await this.webgpuAdapter(forcedProvider);
      const reply = await Promise.race([
        this.request({ type: 'init', seq, packDir: dir, forcedProvider, webgpuAdapterKnown: webgpu.known, webgpuReason: webgpu.reason }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const w = this.worker;
            reject(new VantageError('INTERNAL', `loading the model pack took over ${Math.round(timeoutMs / 1000)} s and was stopped (an execution provider may be hanging); try VANTAGE_EP=cpu`));
            void w?.terminate();
          }, timeoutMs);
        }),
      ]);
      if (reply.type !== 'ready') throw new VantageError('INTERNAL', `inference worker answered ${reply.type} to init`);
      this.view = reply.view;
      this.packSources = reply.sources;
      this.packCapabilities = reply.capabilities;
      this.state = { state: 'ready', pack: reply.pack, stageProviders: reply.stageProviders, providers: reply.providers, error: null, decode: reply.decode };
      return { pack: reply.pack, stageProviders: reply.stageProviders, providers: reply.providers };
    } catch (err) {
      const e = VantageError.from(err);
      this.view = null;
      this.state = { state: 'error', pack: null, stageProviders: {}, providers: this.state.providers, error: e.message };
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** whether WebGPU is worth trying: told by the caller, else the probe's answer (none when a provider is forced) */
  private async webgpuAdapter(forced: string | undefined): Promise<{ known: boolean; reason?: string | undefined }> {
    if (this.opts.webgpuAdapterKnown !== undefined) return { known: this.opts.webgpuAdapterKnown };
    if (!this.opts.webgpuProbe || forced) return { known: false };
    const probe = await probeWebGpu(this.opts.webgpuProbe);
    return { known: probe.hardware, reason: probe.reason ?? undefined };
  }

  status(): ModelStatus {
    return structuredClone(this.state);
  }

  private requireView(): ReadyInfo['view'] {
    if (!this.view) throw new VantageError('CONFLICT', 'no model pack is loaded; load a pack first');
    return this.view;
  }

  get viewSize(): number {
    return this.requireView().size;
  }

  /** How the loaded pack's views are made from image pixels (manifest view.resample / pad / mean; viewResample.ts). */
  get viewPixels(): ViewPixelsSpec {
    const v = this.requireView();
    return { size: v.size, resample: v.resample ?? 'nearest', pad: v.pad ?? 'none', mean: v.mean ?? [0, 0, 0] };
  }

  /** G, the grounding stage's input side (manifest grounding.size, default the view size). */
  get groundingSize(): number {
    const v = this.requireView();
    return v.groundingSize ?? v.size;
  }

  /** How an instant mask's tile becomes the grounding input (manifest grounding.preprocess; viewResample.samViewGeometry). */
  get instantPreprocess(): InstantPreprocess {
    return this.requireView().instant ?? 'view';
  }

  /** Image sources (optical, sar, infrared) the loaded pack takes. */
  get sources(): readonly string[] {
    this.requireView();
    return this.packSources;
  }

  /** What the loaded pack can do (decided by the worker's backend, sent in its ready reply). */
  get capabilities(): PackCapabilities {
    this.requireView();
    if (!this.packCapabilities) throw new VantageError('INTERNAL', 'the inference worker did not say what the pack can do');
    return this.packCapabilities;
  }

  /** View rectangles (image px) for one question: global first, then the grid cells. */
  planViews(width: number, height: number, regions: RegionGeometry[]): Rect[] {
    return this.planViewsDetailed(width, height, regions).views;
  }

  planViewsDetailed(width: number, height: number, regions: RegionGeometry[]): ViewPlan {
    return planViews(width, height, this.requireView(), regions);
  }

  /**
   * Runs one answer in the worker, streaming tokens and masks through `onEvent`. The views' RGB buffers are
   * transferred to the worker (they are detached here afterwards) unless they are slices of a larger buffer.
   * Rejects with CANCELLED when `signal` aborts; the worker stops before its next decoder step.
   */
  async ask(
    req: AskRequest & Pick<AskInput, 'trace' | 'system'>,
    onEvent: (e: InferenceEvent) => void,
    signal: AbortSignal,
  ): Promise<HostAskResult> {
    if (signal.aborted) throw new VantageError('CANCELLED', 'the answer was cancelled');
    if (this.state.state !== 'ready') throw new VantageError('CONFLICT', `the model is not ready (${this.state.state}${this.state.error ? `: ${this.state.error}` : ''})`);
    const transfer = new Set<ArrayBuffer>();
    const views = req.views.map((v) => ({ ...v, rgb: this.transferable(v.rgb, transfer) }));
    const viewsB = req.viewsB?.map((v) => ({ ...v, rgb: this.transferable(v.rgb, transfer) }));
    const groundingView = req.groundingView && { ...req.groundingView, rgb: this.transferable(req.groundingView.rgb, transfer) };
    const seq = ++this.seq;
    const requestId = `ask-${++this.requestSeq}`;
    const onAbort = () => {
      if (this.worker) this.worker.postMessage({ type: 'cancel', seq: ++this.seq, requestId } satisfies WorkerRequest);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.request({ type: 'ask', seq, requestId, input: { ...req, views, ...(viewsB ? { viewsB } : {}), ...(groundingView ? { groundingView } : {}) } }, [...transfer], (r) => {
        // Tokens already in flight when the caller aborted are dropped: after abort() the caller sees nothing more.
        if (signal.aborted) return;
        if (r.type === 'token') onEvent({ type: 'token', index: r.index, text: r.text });
        else if (r.type === 'mask') onEvent({ type: 'mask', mask: r.mask });
      });
      if (reply.type !== 'done') throw new VantageError('INTERNAL', `inference worker answered ${reply.type} to ask`);
      return { text: reply.text, durationMs: reply.durationMs, provider: reply.provider, tokens: reply.tokens, ...(reply.trace ? { trace: reply.trace } : {}) };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Mask from a point/box prompt alone on one view (grounding features are cached per view key in the worker). */
  async instantMask(view: ViewInput, prompt: InstantPrompt): Promise<MaskResult> {
    if (this.state.state !== 'ready') throw new VantageError('CONFLICT', `the model is not ready (${this.state.state})`);
    const transfer = new Set<ArrayBuffer>();
    const v = { ...view, rgb: this.transferable(view.rgb, transfer) };
    const reply = await this.request({ type: 'instantMask', seq: ++this.seq, view: v, prompt }, [...transfer]);
    if (reply.type !== 'instantMask') throw new VantageError('INTERNAL', `inference worker answered ${reply.type} to instantMask`);
    return reply.mask;
  }

  private transferable(rgb: Uint8Array, transfer: Set<ArrayBuffer>): Uint8Array {
    // A detached buffer (already sent with an earlier ask) would make postMessage drop the request silently.
    if (rgb.byteLength === 0) throw new VantageError('BAD_INPUT', 'a view has no pixels (its buffer was already transferred to the inference worker by an earlier call); render the view again');
    const whole = rgb.byteOffset === 0 && rgb.byteLength === rgb.buffer.byteLength && rgb.buffer instanceof ArrayBuffer;
    if (!whole || transfer.has(rgb.buffer as ArrayBuffer)) return rgb.slice();
    transfer.add(rgb.buffer as ArrayBuffer);
    return rgb;
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    try {
      // the grace timer must not keep the process alive once the worker has answered
      await Promise.race([this.request({ type: 'close', seq: ++this.seq }), new Promise((r) => setTimeout(r, 5_000).unref())]);
    } catch {
      // the worker died while closing: nothing left to release
    }
    this.worker = null;
    await w.terminate();
    this.state = { state: 'none', pack: null, stageProviders: {}, providers: [], error: null };
    this.view = null;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new VantageError('CANCELLED', 'the inference host was closed'));
  }
}
