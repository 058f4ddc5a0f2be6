import type * as ort from 'onnxruntime-node';
import { VantageError } from '../contract/errors.js';
import { isDeviceTensor, type DeviceTensor, type HostTensor, type NativeArray, type NativeOrt, type NativeSession, type NativeType } from './nativeOrt.js';
import { feed, floats, fromHalf, toHalf } from './tensorIo.js';
import { EXTERNAL_FOLDER_KEY, type CpuGraph } from './cpuInt8.js';

/**
 * The decode loop's two ways of running the `embed` + `decoder` stages:
 *
 * - StockDecodeRunner: onnxruntime-node's binding. Every run returns host tensors, so each step copies the whole
 *   KV cache out of onnxruntime into JS and back in (on CUDA: across PCIe, twice per token).
 * - NativeDecodeRunner: the IO-binding addon (nativeOrt.ts). The KV cache never leaves the device: with a decoder
 *   that takes a fixed-capacity cache (manifest llm.staticKvCache, GroupQueryAttention graphs) past and present
 *   are one buffer written in place; otherwise each step's present tensors stay on the device and are bound as the
 *   next step's past. The next token's embedding goes embed → decoder on the device; only the last row of logits
 *   (and a hidden-state row when <SEG> needs it) is copied to the host. With CUDA graphs the single-token step is
 *   captured once and replayed.
 *
 * Both produce the same numbers (tests compare them token for token); the benchmark measures them side by side.
 */
export interface DecodeRunner {
  /** runs the prompt (T rows of embeddings, row-major [T, D]) */
  prefill(seq: Float32Array, T: number): Promise<void>;
  /** embeds one token and runs one step */
  next(tokenId: number): Promise<void>;
  /** logits of the last row of the last step [vocab] */
  lastLogits(): Float32Array;
  /** logits of every row of the last step [rows · vocab] (traces) */
  stepLogits(): Float32Array;
  /** one row of the last step's hidden states [D] */
  hidden(row: number): Float32Array;
  /** the last row of the last step's hidden states [D]: the one whose logits lastLogits() returns */
  lastHidden(): Float32Array;
  /** token embeddings for a prompt [ids · D] (the embed stage alone) */
  embedIds(ids: number[]): Promise<Float32Array>;
  dispose(): void;
}

export type StageTimer = (stage: 'embed' | 'decoder', ms: number) => void;

interface LlmShape {
  hidden: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxContext: number;
}

// ------------------------------------------------------------------------------------------------- stock binding
export class StockDecodeRunner implements DecodeRunner {
  private past: Record<string, ort.Tensor> = {};
  private P = 0;
  private out: { logits: Float32Array; hidden: Float32Array; rows: number } | null = null;

  constructor(
    private readonly embed: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly llm: LlmShape,
    private readonly timer: StageTimer,
  ) {
    for (let i = 0; i < llm.layers; i++) {
      for (const kv of ['key', 'value']) {
        const name = `past_key_values.${i}.${kv}`;
        this.past[name] = feed(decoder, name, new Float32Array(0), [1, llm.kvHeads, 0, llm.headDim]);
      }
    }
  }

  private async timed(stage: 'embed' | 'decoder', s: ort.InferenceSession, feeds: Record<string, ort.Tensor>) {
    const t0 = performance.now();
    try {
      return await s.run(feeds);
    } finally {
      this.timer(stage, performance.now() - t0);
    }
  }

  async embedIds(ids: number[]): Promise<Float32Array> {
    const e = await this.timed('embed', this.embed, { input_ids: feed(this.embed, 'input_ids', ids, [1, ids.length]) });
    return floats(e.inputs_embeds, 'inputs_embeds');
  }

  private async step(embeds: Float32Array, t: number): Promise<void> {
    const { hidden: D, layers: L } = this.llm;
    const d = this.decoder;
    const P = this.P;
    const out = await this.timed('decoder', d, {
      inputs_embeds: feed(d, 'inputs_embeds', embeds, [1, t, D]),
      attention_mask: feed(d, 'attention_mask', new Array<number>(P + t).fill(1), [1, P + t]),
      position_ids: feed(d, 'position_ids', Array.from({ length: t }, (_, k) => P + k), [1, t]),
      ...this.past,
    });
    const next: Record<string, ort.Tensor> = {};
    for (let i = 0; i < L; i++) {
      next[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
      next[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
    }
    for (const x of Object.values(this.past)) x.dispose();
    this.past = next;
    this.P += t;
    this.out = { logits: floats(out.logits, 'logits'), hidden: floats(out.hidden_states, 'hidden_states'), rows: t };
  }

  prefill(seq: Float32Array, T: number): Promise<void> {
    return this.step(seq, T);
  }

  async next(tokenId: number): Promise<void> {
    await this.step(await this.embedIds([tokenId]), 1);
  }

  private last() {
    if (!this.out) throw new VantageError('INTERNAL', 'the decoder has not run yet');
    return this.out;
  }
  lastLogits(): Float32Array {
    const o = this.last();
    const V = this.llm.vocab;
    const rows = o.logits.length / V; // 1 for a last-row-logits decoder (manifest llm.lastRowLogits), else every row
    return o.logits.subarray((rows - 1) * V, rows * V);
  }
  stepLogits(): Float32Array {
    return this.last().logits;
  }
  hidden(row: number): Float32Array {
    const D = this.llm.hidden;
    return this.last().hidden.slice(row * D, (row + 1) * D);
  }
  lastHidden(): Float32Array {
    return this.hidden(this.last().rows - 1);
  }
  dispose(): void {
    for (const x of Object.values(this.past)) x.dispose();
    this.past = {};
  }
}

// ------------------------------------------------------------------------------------------------- native addon
function toNative(type: string, data: ArrayLike<number>, what: string): NativeArray {
  const n = data.length;
  switch (type) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'float16': {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = toHalf(data[i]!);
      return h;
    }
    case 'int64': {
      const b = new BigInt64Array(n);
      for (let i = 0; i < n; i++) b[i] = BigInt(Math.round(data[i]!));
      return b;
    }
    case 'int32':
      return Int32Array.from(data, (v) => Math.round(v));
    default:
      throw new VantageError('UNSUPPORTED', `${what} has type ${type}; supported: float32, float16, int64, int32`);
  }
}

function toFloat32(a: NativeArray, what: string): Float32Array {
  if (a instanceof Float32Array) return a;
  if (a instanceof Uint16Array) {
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = fromHalf(a[i]!);
    return out;
  }
  throw new VantageError('INTERNAL', `${what} is not a float tensor`);
}

export interface NativeDecodeOptions {
  provider: 'cpu' | 'cuda';
  /** past/present as one fixed-capacity buffer written in place (decoders declaring llm.staticKvCache) */
  staticKv: boolean;
  /** capture the single-token step as a CUDA graph (CUDA + staticKv only) */
  cudaGraph: boolean;
  /** thread settings of both sessions (default: onnxruntime's own — intra-op threads = physical cores, spinning on) */
  threads?: { intraOp?: number; spinning?: boolean };
}

/**
 * The native embed + decoder sessions of one loaded pack, and the device buffers reused by every answer
 * (a static KV cache is allocated once at maxContext, not per question).
 */
export class NativeDecodeSessions {
  readonly describe: string;
  private buffers: StaticBuffers | null = null;
  private busy = false;

  private constructor(
    readonly addon: NativeOrt,
    readonly embed: NativeSession,
    readonly decoder: NativeSession,
    readonly opts: NativeDecodeOptions,
    readonly llm: LlmShape,
  ) {
    const kv = opts.staticKv ? `KV cache in place (${llm.maxContext} positions)` : 'KV cache kept on the device';
    this.describe = `native IO binding on ${opts.provider} · ${kv}${opts.cudaGraph ? ' · CUDA graph' : ''}`;
  }

  /** `files.decoder`: a graph file, or a CPU graph in memory with its weights' folder (cpuInt8.ts) */
  static create(addon: NativeOrt, files: { embed: string; decoder: string | CpuGraph }, llm: LlmShape, opts: NativeDecodeOptions): NativeDecodeSessions {
    const t = opts.threads;
    const threads = {
      ...(t?.intraOp ? { intraOpThreads: t.intraOp } : {}),
      ...(t?.spinning === false ? { sessionConfig: { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' } } : {}),
    };
    const embed = new addon.Session(files.embed, { provider: opts.provider, ...threads });
    let decoder: NativeSession;
    try {
      const dec = files.decoder;
      decoder =
        typeof dec === 'string'
          ? new addon.Session(dec, { provider: opts.provider, cudaGraph: opts.cudaGraph, ...threads })
          : new addon.Session(dec.bytes, { provider: opts.provider, cudaGraph: opts.cudaGraph, ...threads, sessionConfig: { ...('sessionConfig' in threads ? threads.sessionConfig : {}), [EXTERNAL_FOLDER_KEY]: dec.folder } });
    } catch (err) {
      embed.release();
      throw err;
    }
    return new NativeDecodeSessions(addon, embed, decoder, opts, llm);
  }

  typeOf(session: NativeSession, name: string, side: 'inputs' | 'outputs' = 'inputs'): NativeType {
    const info = session[side].find((x) => x.name === name);
    if (!info) {
      const have = session[side].map((x) => x.name).join(', ');
      throw new VantageError('BAD_INPUT', `model graph has no ${side === 'inputs' ? 'input' : 'output'} "${name}" (it has ${have}); the pack does not follow the pack contract`);
    }
    return info.type as NativeType;
  }

  /** the buffers of the static-cache step, allocated on first use */
  staticBuffers(): StaticBuffers {
    if (this.buffers) return this.buffers;
    const { hidden: D, layers: L, kvHeads, headDim, vocab: V, maxContext: M } = this.llm;
    const d = this.decoder;
    const kvType = this.typeOf(d, 'past_key_values.0.key');
    const kv: Record<string, DeviceTensor> = {};
    for (let i = 0; i < L; i++) for (const k of ['key', 'value']) kv[`${i}.${k}`] = d.alloc(kvType, [1, kvHeads, M, headDim]);
    this.buffers = {
      kv,
      mask: d.alloc(this.typeOf(d, 'attention_mask'), [1, M]),
      position: d.alloc(this.typeOf(d, 'position_ids'), [1, 1]),
      embeds: d.alloc(this.typeOf(d, 'inputs_embeds'), [1, 1, D]),
      logits: d.alloc(this.typeOf(d, 'logits', 'outputs'), [1, 1, V]),
      hidden: d.alloc(this.typeOf(d, 'hidden_states', 'outputs'), [1, 1, D]),
    };
    return this.buffers;
  }

  acquire(): void {
    if (this.busy) throw new VantageError('CONFLICT', 'the model is already answering; one question at a time');
    this.busy = true;
  }
  releaseRunner(): void {
    this.busy = false;
  }

  release(): void {
    if (this.buffers) {
      const b = this.buffers;
      for (const t of [...Object.values(b.kv), b.mask, b.position, b.embeds, b.logits, b.hidden]) t.dispose();
      this.buffers = null;
    }
    this.embed.release();
    this.decoder.release();
  }
}

interface StaticBuffers {
  kv: Record<string, DeviceTensor>;
  mask: DeviceTensor;
  position: DeviceTensor;
  embeds: DeviceTensor;
  logits: DeviceTensor;
  hidden: DeviceTensor;
}

export class NativeDecodeRunner implements DecodeRunner {
  private P = 0;
  private rows = 0;
  private logits: DeviceTensor | null = null;
  private hiddenT: DeviceTensor | null = null;
  private outputsOwned = false;
  /** append layout: this step's present tensors, the next step's past */
  private past: Record<string, DeviceTensor> = {};
  /** append layout: the next token's embedding on the device, allocated once per answer (not per token) */
  private stepEmbeds: DeviceTensor | null = null;
  private disposed = false;
  private readonly embedOut: NativeType;
  private readonly embedIn: NativeType;
  private readonly T: Record<'embeds' | 'mask' | 'position', NativeType>;

  constructor(
    private readonly s: NativeDecodeSessions,
    private readonly timer: StageTimer,
  ) {
    s.acquire();
    const d = s.decoder;
    this.embedIn = s.typeOf(s.embed, 'input_ids');
    this.embedOut = s.typeOf(s.embed, 'inputs_embeds', 'outputs');
    this.T = { embeds: s.typeOf(d, 'inputs_embeds'), mask: s.typeOf(d, 'attention_mask'), position: s.typeOf(d, 'position_ids') };
    const { layers: L, kvHeads, headDim } = s.llm;
    if (s.opts.staticKv) {
      const b = s.staticBuffers();
      b.mask.fill(0); // a new conversation: nothing attended yet (stale KV rows beyond the mask are never read)
    } else {
      const kvType = s.typeOf(d, 'past_key_values.0.key');
      for (let i = 0; i < L; i++) for (const k of ['key', 'value']) this.past[`${i}.${k}`] = d.alloc(kvType, [1, kvHeads, 0, headDim]);
    }
  }

  private async timed<R>(stage: 'embed' | 'decoder', f: () => Promise<R>): Promise<R> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.timer(stage, performance.now() - t0);
    }
  }

  async embedIds(ids: number[]): Promise<Float32Array> {
    const e = this.s.embed;
    const out = await this.timed('embed', () =>
      e.run({ input_ids: { type: this.embedIn, dims: [1, ids.length], data: toNative(this.embedIn, ids, 'input_ids') } }, { inputs_embeds: 'host' }),
    );
    return toFloat32((out.inputs_embeds as HostTensor).data, 'inputs_embeds');
  }

  private host(type: NativeType, dims: number[], data: ArrayLike<number>, what: string): HostTensor {
    return { type, dims, data: toNative(type, data, what) };
  }

  private checkCapacity(t: number): void {
    const M = this.s.llm.maxContext;
    if (this.P + t > M) {
      throw new VantageError('BAD_INPUT', `the conversation needs ${this.P + t} positions but the pack's context holds ${M}; start a new conversation or ask for fewer tokens`);
    }
  }

  /**
   * The last step's logits + hidden states: tensors onnxruntime allocated for this step (owned: freed when replaced)
   * or the shared static buffers of the single-token step (not ours to free).
   */
  private setStepOutputs(logits: DeviceTensor, hidden: DeviceTensor, owned: boolean): void {
    this.freeStepOutputs();
    this.logits = logits;
    this.hiddenT = hidden;
    this.outputsOwned = owned;
  }

  private freeStepOutputs(): void {
    if (this.outputsOwned) {
      this.logits?.dispose();
      this.hiddenT?.dispose();
    }
    this.logits = this.hiddenT = null;
  }

  private adopted(o: Record<string, HostTensor | DeviceTensor>, name: string): DeviceTensor {
    const v = o[name];
    if (!v || !isDeviceTensor(v, this.s.addon)) throw new VantageError('INTERNAL', `the decoder did not return "${name}"`);
    return v;
  }

  /** one decoder run over t rows whose embeddings are a host array or the device buffer of the next token */
  private async run(embeds: HostTensor | DeviceTensor, t: number): Promise<void> {
    if (this.disposed) throw new VantageError('CONFLICT', 'the answer was already finished');
    this.checkCapacity(t);
    const s = this.s;
    const d = s.decoder;
    const L = s.llm.layers;
    const P = this.P;
    const positions = Array.from({ length: t }, (_, k) => P + k);
    if (s.opts.staticKv) {
      const b = s.staticBuffers();
      b.mask.write(toNative(this.T.mask, new Array<number>(t).fill(1), 'attention_mask'), P);
      const feeds: Record<string, HostTensor | DeviceTensor> = { inputs_embeds: embeds, attention_mask: b.mask };
      const outs: Record<string, 'host' | 'device' | DeviceTensor> = {};
      for (let i = 0; i < L; i++) {
        for (const k of ['key', 'value']) {
          feeds[`past_key_values.${i}.${k}`] = b.kv[`${i}.${k}`]!;
          outs[`present.${i}.${k}`] = b.kv[`${i}.${k}`]!; // the same buffer: GroupQueryAttention appends in place
        }
      }
      const single = t === 1 && isDeviceTensor(embeds, s.addon);
      if (single) {
        b.position.write(toNative(this.T.position, positions, 'position_ids'));
        feeds.position_ids = b.position;
        outs.logits = b.logits;
        outs.hidden_states = b.hidden;
      } else {
        feeds.position_ids = this.host(this.T.position, [1, t], positions, 'position_ids');
        outs.logits = 'device';
        outs.hidden_states = 'device';
      }
      // graph id 1: the fixed-shape single-token step (captured once, replayed after); -1: never captured (prefill)
      const options = d.cudaGraph ? { graphId: single ? 1 : -1 } : undefined;
      const o = await this.timed('decoder', () => d.run(feeds, outs, options));
      if (single) this.setStepOutputs(b.logits, b.hidden, false);
      else this.setStepOutputs(this.adopted(o, 'logits'), this.adopted(o, 'hidden_states'), true);
    } else {
      const feeds: Record<string, HostTensor | DeviceTensor> = {
        inputs_embeds: embeds,
        attention_mask: this.host(this.T.mask, [1, P + t], new Array<number>(P + t).fill(1), 'attention_mask'),
        position_ids: this.host(this.T.position, [1, t], positions, 'position_ids'),
      };
      const outs: Record<string, 'host' | 'device' | DeviceTensor> = { logits: 'device', hidden_states: 'device' };
      for (let i = 0; i < L; i++) {
        for (const k of ['key', 'value']) {
          feeds[`past_key_values.${i}.${k}`] = this.past[`${i}.${k}`]!;
          outs[`present.${i}.${k}`] = 'device';
        }
      }
      const o = await this.timed('decoder', () => d.run(feeds, outs));
      for (const x of Object.values(this.past)) x.dispose();
      this.past = {};
      for (let i = 0; i < L; i++) for (const k of ['key', 'value']) this.past[`${i}.${k}`] = this.adopted(o, `present.${i}.${k}`);
      this.setStepOutputs(this.adopted(o, 'logits'), this.adopted(o, 'hidden_states'), true);
    }
    this.P += t;
    this.rows = t;
  }

  prefill(seq: Float32Array, T: number): Promise<void> {
    const D = this.s.llm.hidden;
    return this.run(this.host(this.T.embeds, [1, T, D], seq, 'inputs_embeds'), T);
  }

  async next(tokenId: number): Promise<void> {
    const s = this.s;
    const D = s.llm.hidden;
    const ids = { input_ids: this.host(this.embedIn, [1, 1], [tokenId], 'input_ids') };
    if (this.embedOut === this.T.embeds) {
      // the embedding stays on the device: embed writes the buffer the decoder reads
      const target = s.opts.staticKv ? s.staticBuffers().embeds : (this.stepEmbeds ??= s.embed.alloc(this.T.embeds, [1, 1, D]));
      await this.timed('embed', () => s.embed.run(ids, { inputs_embeds: target }));
      await this.run(target, 1);
    } else {
      const e = await this.embedIds([tokenId]);
      await this.run(this.host(this.T.embeds, [1, 1, D], e, 'inputs_embeds'), 1);
    }
  }

  private lastOut(): DeviceTensor {
    if (!this.logits) throw new VantageError('INTERNAL', 'the decoder has not run yet');
    return this.logits;
  }
  lastLogits(): Float32Array {
    const V = this.s.llm.vocab;
    const rows = this.lastOut().dims[1] ?? this.rows; // 1 for a last-row-logits decoder (manifest llm.lastRowLogits)
    return toFloat32(this.lastOut().read((rows - 1) * V, V), 'logits');
  }
  stepLogits(): Float32Array {
    return toFloat32(this.lastOut().read(0, (this.lastOut().dims[1] ?? this.rows) * this.s.llm.vocab), 'logits');
  }
  lastHidden(): Float32Array {
    return this.hidden(this.rows - 1);
  }
  hidden(row: number): Float32Array {
    if (!this.hiddenT) throw new VantageError('INTERNAL', 'the decoder has not run yet');
    const D = this.s.llm.hidden;
    return toFloat32(this.hiddenT.read(row * D, D), 'hidden_states');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const x of Object.values(this.past)) x.dispose();
    this.stepEmbeds?.dispose();
    this.stepEmbeds = null;
    this.freeStepOutputs();
    this.past = {};
    this.s.releaseRunner();
  }
}
