import { createHash } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import { VantageError } from '../contract/errors.js';
import type { RegionGeometry } from '../contract/geometry.js';
import { TASK_MODE_SPECS } from '../contract/taskModes.js';
import { forcesSegPrefix, regionFormatOf, renderChatPrompt, regionToken, type AskMode, type HistoryTurn, type ImageSource } from './chatPrompt.js';
import { NativeDecodeRunner, NativeDecodeSessions, planNativeDecode, StockDecodeRunner, type DecodeRunner } from './decodeRunner.js';
import { SessionFactory, shortOrtError, type ProviderOptions, type ProviderStatus } from './executionProviders.js';
import { loadNativeOrt, type NativeSession } from './nativeOrt.js';
import { composeViewMasks } from './maskCompose.js';
import { loadPack, STAGE_NAMES, type LoadedPackInfo, type StageName } from './packManifest.js';
import { rasterizeRegions } from './regionRaster.js';
import { checkStageShapes, type GraphMetadata } from './shapeCheck.js';
import { feed, floats } from './tensorIo.js';
import { PackTokenizer } from './tokenizer.js';
import { TokenSampler, type SamplingOptions } from './tokenSampler.js';
import type { Rect } from './viewPlanner.js';

export interface ViewInput {
  /** [x0, y0, x1, y1] of the view in image pixels */
  rect: Rect;
  /** S×S×3 RGB bytes, row-major */
  rgb: Uint8Array;
  /** identifies the view's pixels for the grounding cache (e.g. image sha + rect); hashed from rgb when absent */
  key?: string | undefined;
}

export interface AskInput {
  views: ViewInput[];
  /**
   * bitemporal mode only: the later date's views, rendered on the same rects as `views` (image B resampled onto
   * image A's grid), in the same order; `views` are then the earlier date's
   */
  viewsB?: ViewInput[] | undefined;
  regions: RegionGeometry[];
  text: string;
  history: HistoryTurn[];
  source: ImageSource;
  mode: AskMode;
  maxNewTokens: number;
  sampling: SamplingOptions;
  system?: string | undefined;
  /** return the ids and first-step logits (tests, diagnostics) */
  trace?: boolean | undefined;
  /** with `trace`: also return every stage's tensors (golden tests against the PyTorch reference; large) */
  traceTensors?: boolean | undefined;
  /**
   * How `<SEG>` masks are made: 'global' = the pixel decoder on the global view alone (M×M); 'views' = also on every
   * sub-view, composed into one finer mask over the global rect (maskCompose.ts). Default: 'views' when the ask
   * has sub-views.
   */
  maskDetail?: 'global' | 'views' | undefined;
}

export interface MaskResult {
  /** size×size, 1 inside, row-major: M×M (manifest pixel.maskSize), or N×N for a fine `<SEG>` mask (maskCompose.ts) */
  data: Uint8Array;
  size: number;
  /** the global view rect (image px) the mask covers */
  rect: Rect;
  score: number;
  phrase: string | null;
  /** 0-based index into the ask's regions: the region the phrase names, else 0 when the ask had exactly one */
  regionIndex: number | null;
  /** instant masks: the view's grounding features came from the cache (only the pixel decoder ran) */
  cachedFeatures?: boolean;
}

export interface AskTrace {
  prompt: string;
  inputIds: number[];
  sequenceLength: number;
  firstLogits: Float32Array;
  /** generated ids including the stop token when one ended the answer */
  generatedIds: number[];
  /** with `traceTensors`: stage inputs/outputs by name (mask_logits / image_embeddings: one entry per pixel call) */
  tensors?: StageTensors;
}

export interface StageTensors {
  pixel_values: Float32Array;
  visual_tokens: Float32Array;
  region_masks: Float32Array;
  image_embeds: Float32Array;
  region_embeds: Float32Array;
  inputs_embeds: Float32Array;
  prefill_logits: Float32Array;
  grounding_pixel_values: Float32Array[];
  image_embeddings: Float32Array[];
  mask_logits: Float32Array[];
  /** fine `<SEG>` masks (maskDetail 'views'): the composed N×N logits, one entry per mask */
  fine_mask_logits?: Float64Array[];
}

export interface AskResult {
  text: string;
  durationMs: number;
  provider: string;
  tokens: number;
  droppedTurns: number;
  trace?: AskTrace;
}

export interface AskCallbacks {
  onToken: (index: number, text: string) => void;
  onMask: (mask: MaskResult) => void;
}

export type InstantPrompt =
  | { kind: 'point'; x: number; y: number; label?: 0 | 1 }
  | { kind: 'box'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'points'; points: { x: number; y: number; label: 0 | 1 }[] };

const GROUNDING_CACHE_SIZE = 8;

/** a native session's declared tensors in onnxruntime-node's metadata shape (for the manifest shape check) */
function nativeMetadata(s: NativeSession): GraphMetadata {
  const meta = (list: NativeSession['inputs']) =>
    list.map((v) => ({ name: v.name, isTensor: true as const, type: v.type, shape: v.dims })) as unknown as GraphMetadata['inputMetadata'];
  return { inputMetadata: meta(s.inputs), outputMetadata: meta(s.outputs) };
}

/** One loaded pack: preprocess (views, regions, prompt) → run (vision, prompt, embed, decoder, pixel) → postprocess. */
export class InferencePipeline {
  private readonly sessions: Partial<Record<StageName, ort.InferenceSession>> = {};
  /** embed + decoder on the IO-binding addon (null: the stock binding runs them) */
  private native: NativeDecodeSessions | null = null;
  readonly stageProviders: Record<string, string> = {};
  /** how the decode loop runs, in words (status bar, `vantage ask --json`, benchmark) */
  decodePath = 'stock onnxruntime-node binding';
  private readonly groundingCache = new Map<string, Float32Array>();
  /** grounding-encoder runs vs cache hits: how tests and the benchmark see which path a click took */
  readonly groundingStats = { runs: 0, hits: 0 };
  /** wall time per stage since load (the benchmark reads and resets it) */
  readonly stageTimes: Partial<Record<StageName, { ms: number; calls: number }>> = {};
  private disposed = false;
  /** set during a traced ask: the grounding and pixel calls record their tensors here */
  private taps: (Partial<StageTensors> & Pick<StageTensors, 'grounding_pixel_values' | 'image_embeddings' | 'mask_logits'>) | null = null;

  private constructor(
    readonly pack: LoadedPackInfo,
    readonly providers: ProviderStatus[],
    private readonly tokenizer: PackTokenizer | null,
  ) {}

  /** `native: false` keeps embed + decoder on the stock binding (tests and the benchmark compare the two) */
  static async create(packDir: string, opts: ProviderOptions & { builtin?: boolean; native?: boolean } = {}): Promise<InferencePipeline> {
    const pack = await loadPack(packDir, { builtin: opts.builtin });
    const factory = new SessionFactory(opts);
    const tokenizer = pack.stageFiles.embed || pack.stageFiles.decoder ? await PackTokenizer.load(pack.tokenizerFile) : null;
    const p = new InferencePipeline(pack, factory.providers, tokenizer);
    try {
      if (opts.native === false) p.decodePath = 'stock onnxruntime-node binding (native path turned off by the caller)';
      else await p.loadNativeDecode(factory);
      for (const stage of STAGE_NAMES) {
        const file = pack.stageFiles[stage];
        if (!file) continue;
        if (p.native && (stage === 'embed' || stage === 'decoder')) continue;
        const { session, provider } = await factory.create(stage, file);
        p.sessions[stage] = session;
        checkStageShapes(pack.manifest, pack.name, stage, session);
        p.stageProviders[stage] = provider;
      }
      if (tokenizer) {
        const m = pack.manifest;
        for (const t of [m.tokens.image, m.tokens.seg, m.tokens.phraseOpen, m.tokens.phraseClose, ...m.tokens.stop]) tokenizer.requireId(t);
      }
    } catch (err) {
      await p.dispose();
      throw err;
    }
    return p;
  }

  /**
   * Runs embed + decoder on the IO-binding addon when it is built (KV cache on the device, in place for static-cache
   * packs) on the best provider the ladder allows (cuda, else cpu); otherwise, or when it cannot make the sessions,
   * the stock binding runs them and decodePath says why.
   */
  private async loadNativeDecode(factory: SessionFactory): Promise<void> {
    const { manifest, stageFiles } = this.pack;
    if (!manifest.llm || !stageFiles.embed || !stageFiles.decoder) return;
    const load = loadNativeOrt();
    const cuda = factory.providers.find((p) => p.name === 'cuda')?.available === true;
    const cpu = factory.providers.find((p) => p.name === 'cpu')?.available === true;
    if (!cuda && !cpu) return; // forced to webgpu: the addon does not drive that provider
    const provider = cuda ? 'cuda' : 'cpu';
    const plan = planNativeDecode(load.addon, load.reason, manifest, provider);
    if (!plan.use || !plan.options || !load.addon) {
      this.decodePath = `stock onnxruntime-node binding (${plan.reason})`;
      return;
    }
    // a CUDA session that cannot start (driver, CUDA libraries) leaves the native path on the CPU, which still
    // keeps the cache out of JS; the reason stays visible in decodePath
    const attempts: ('cuda' | 'cpu')[] = provider === 'cuda' && cpu ? ['cuda', 'cpu'] : [provider];
    const failures: string[] = [];
    for (const ep of attempts) {
      const options = { ...plan.options, provider: ep, cudaGraph: ep === 'cuda' && plan.options.cudaGraph };
      let n: NativeDecodeSessions;
      try {
        n = NativeDecodeSessions.create(load.addon, { embed: stageFiles.embed, decoder: stageFiles.decoder }, manifest.llm, options);
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
      this.decodePath = n.describe + (failures.length ? ` (${failures.join('; ')})` : '');
      return;
    }
    this.decodePath = `stock onnxruntime-node binding (${failures.join('; ')})`;
  }

  /** The provider that runs the answer (the decoder's), or the pixel decoder's for segmentation-only packs. */
  get provider(): string {
    return this.stageProviders.decoder ?? this.stageProviders.pixel ?? 'cpu';
  }

  private stage(name: StageName, forWhat: string): ort.InferenceSession {
    if (this.disposed) throw new VantageError('CONFLICT', 'the model pack was unloaded; load it again');
    const s = this.sessions[name];
    if (!s) {
      throw new VantageError('UNSUPPORTED', `model pack "${this.pack.name}" has no ${name} stage, needed for ${forWhat}; it has ${this.pack.stages.join(', ')}`);
    }
    return s;
  }

  private async timed(stage: StageName, s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const t0 = performance.now();
    try {
      return await s.run(feeds);
    } finally {
      const t = (this.stageTimes[stage] ??= { ms: 0, calls: 0 });
      t.ms += performance.now() - t0;
      t.calls++;
    }
  }

  canChat(): boolean {
    return !!(this.sessions.vision && this.sessions.prompt && (this.native || (this.sessions.embed && this.sessions.decoder)));
  }

  canSegment(): boolean {
    return !!(this.sessions.grounding && this.sessions.pixel);
  }

  // ------------------------------------------------------------------------------------------------- preprocess
  private pixels(views: ViewInput[], mean: readonly number[], std: readonly number[]): Float32Array {
    const S = this.pack.manifest.view.size;
    const plane = S * S;
    const out = new Float32Array(views.length * 3 * plane);
    views.forEach((v, n) => {
      if (v.rgb.length !== plane * 3) {
        throw new VantageError('BAD_INPUT', `view ${n} has ${v.rgb.length} bytes; this pack needs ${S}×${S} RGB views (${plane * 3} bytes)`);
      }
      const base = n * 3 * plane;
      // Float32 at every step, as the reference computes it (u8/255, − mean, ÷ std, each rounded to float32):
      // each operation on float32 operands done in float64 and rounded once is exactly the float32 result, so
      // pixel_values are bit-identical to PyTorch's (reference_pipeline.json holds their sha256).
      for (let c = 0; c < 3; c++) {
        const m = Math.fround(mean[c]!), s = Math.fround(std[c]!);
        const o = base + c * plane;
        for (let i = 0; i < plane; i++) out[o + i] = Math.fround(Math.fround(v.rgb[i * 3 + c]! / 255) - m) / s;
      }
    });
    return out;
  }

  private viewKey(v: ViewInput): string {
    return v.key ?? `${createHash('sha1').update(v.rgb).digest('hex')}:${v.rect.join(',')}`;
  }

  /** Grounding features of one view, cached: the SAM-style encoder is the heaviest per-click cost. */
  private async groundingFeatures(v: ViewInput): Promise<Float32Array> {
    const key = this.viewKey(v);
    const hit = this.groundingCache.get(key);
    if (hit) {
      this.groundingStats.hits++;
      this.groundingCache.delete(key);
      this.groundingCache.set(key, hit);
      return hit;
    }
    const s = this.stage('grounding', 'masks');
    const g = this.pack.manifest.grounding!;
    const S = this.pack.manifest.view.size;
    const pv = this.pixels([v], g.mean, g.std);
    const out = await this.timed('grounding', s, { pixel_values: feed(s, 'pixel_values', pv, [1, 3, S, S]) });
    this.groundingStats.runs++;
    const feats = floats(out.image_embeddings, 'image_embeddings').slice();
    this.taps?.grounding_pixel_values.push(pv);
    this.taps?.image_embeddings.push(feats);
    this.groundingCache.set(key, feats);
    // room for one ask's views (fine <SEG> masks use them all) beside the recent instant-mask tiles
    const cap = GROUNDING_CACHE_SIZE + this.pack.manifest.view.maxViews;
    while (this.groundingCache.size > cap) this.groundingCache.delete(this.groundingCache.keys().next().value!);
    return feats;
  }

  private async runPixel(
    view: ViewInput,
    segHidden: Float32Array | null,
    points: number[],
    labels: number[],
  ): Promise<{ data: Uint8Array; size: number; score: number }> {
    const { logits, size: M, score } = await this.pixelLogits(view, segHidden, points, labels);
    const data = new Uint8Array(M * M);
    for (let i = 0; i < M * M; i++) data[i] = logits[i]! > 0 ? 1 : 0;
    return { data, size: M, score };
  }

  /** the pixel decoder on one view (its grounding features through the cache): M×M logits and the score */
  private async pixelLogits(
    view: ViewInput,
    segHidden: Float32Array | null,
    points: number[],
    labels: number[],
  ): Promise<{ logits: Float32Array; size: number; score: number }> {
    const m = this.pack.manifest;
    const s = this.stage('pixel', 'masks');
    const feats = await this.groundingFeatures(view);
    const D = m.llm?.hidden ?? segHidden?.length ?? 1;
    const C = m.grounding!.channels, g = m.grounding!.grid;
    const P = labels.length;
    const out = await this.timed('pixel', s, {
      image_embeddings: feed(s, 'image_embeddings', feats, [1, C, g, g]),
      seg_hidden: feed(s, 'seg_hidden', segHidden ?? new Float32Array(D), [1, D]),
      has_seg: feed(s, 'has_seg', [segHidden ? 1 : 0], [1]),
      points: feed(s, 'points', points, [1, P, 2]),
      point_labels: feed(s, 'point_labels', labels, [1, P]),
    });
    const logits = floats(out.mask_logits, 'mask_logits');
    this.taps?.mask_logits.push(logits.slice());
    const M = m.pixel?.maskSize ?? Math.round(Math.sqrt(logits.length));
    return { logits, size: M, score: floats(out.score, 'score')[0] ?? 0 };
  }

  /**
   * A `<SEG>` mask at the sub-views' resolution: the pixel decoder with the same hidden state (has_seg = 1, one
   * padding point) on the global view and on every sub-view, composed over the global rect (maskCompose.ts).
   * The score is the global view's.
   */
  private async fineSegMask(views: ViewInput[], hidden: Float32Array, checkAbort: () => void): Promise<{ data: Uint8Array; size: number; score: number }> {
    const global = await this.pixelLogits(views[0]!, hidden, [0, 0], [-1]);
    const subs: { rect: ViewInput['rect']; logits: Float32Array }[] = [];
    for (const v of views.slice(1)) {
      checkAbort();
      subs.push({ rect: v.rect, logits: (await this.pixelLogits(v, hidden, [0, 0], [-1])).logits });
    }
    const c = composeViewMasks({ rect: views[0]!.rect, logits: global.logits }, subs, global.size);
    if (this.taps) (this.taps.fine_mask_logits ??= []).push(c.logits);
    return { data: c.data, size: c.size, score: global.score };
  }

  // ------------------------------------------------------------------------------------------------------- ask
  async ask(input: AskInput, cb: AskCallbacks, signal?: AbortSignal): Promise<AskResult> {
    if (!(input.trace && input.traceTensors)) return this.answer(input, cb, signal);
    const taps: NonNullable<typeof this.taps> = { grounding_pixel_values: [], image_embeddings: [], mask_logits: [] };
    this.taps = taps;
    try {
      const r = await this.answer(input, cb, signal);
      if (r.trace) r.trace.tensors = taps as StageTensors;
      return r;
    } finally {
      this.taps = null;
    }
  }

  private async answer(input: AskInput, cb: AskCallbacks, signal?: AbortSignal): Promise<AskResult> {
    const t0 = performance.now();
    const m = this.pack.manifest;
    const llm = m.llm;
    const tok = this.tokenizer;
    const vision = this.stage('vision', 'chat');
    const prompt = this.stage('prompt', 'chat');
    const makeRunner = (): DecodeRunner => {
      const timer = (stage: 'embed' | 'decoder', ms: number) => {
        const t = (this.stageTimes[stage] ??= { ms: 0, calls: 0 });
        t.ms += ms;
        t.calls++;
      };
      if (this.native) return new NativeDecodeRunner(this.native, timer);
      return new StockDecodeRunner(this.stage('embed', 'chat'), this.stage('decoder', 'chat'), llm!, timer);
    };
    if (!this.native) {
      this.stage('embed', 'chat');
      this.stage('decoder', 'chat');
    }
    if (!llm || !tok) throw new VantageError('UNSUPPORTED', `model pack "${this.pack.name}" has no llm section; it cannot chat`);
    const bitemporal = input.mode === 'bitemporal';
    // bitemporal: no preset regions/masks requirement of its own (regions optional, masks when the model emits <SEG>)
    const spec = bitemporal ? { needsMasks: false, minRegions: 0 } : TASK_MODE_SPECS[input.mode as Exclude<AskMode, 'bitemporal'>];
    if (!spec) throw new VantageError('BAD_INPUT', `unknown task mode "${String(input.mode)}"`);
    if (spec.needsMasks && !this.canSegment()) {
      throw new VantageError('UNSUPPORTED', `model pack "${this.pack.name}" cannot draw masks (no grounding/pixel stages), needed for ${input.mode} mode; ask in chat mode`);
    }
    if (input.regions.length < spec.minRegions) {
      throw new VantageError('BAD_INPUT', `${input.mode} mode needs ${spec.minRegions} region(s) drawn on the image, got ${input.regions.length}`);
    }
    const forced = forcesSegPrefix(m, input.mode);
    if (!m.sources.includes(input.source)) {
      throw new VantageError('UNSUPPORTED', `model pack "${this.pack.name}" does not take ${input.source} imagery; it takes ${m.sources.join(', ')}`);
    }
    const V = input.views.length;
    if (V < 1 || V > m.view.maxViews) {
      throw new VantageError('BAD_INPUT', `an ask needs 1 to ${m.view.maxViews} views (global first), got ${V}`);
    }
    const viewsB = input.viewsB;
    if (bitemporal) {
      if (!m.modes.includes('bitemporal')) {
        throw new VantageError('UNSUPPORTED', `model pack "${this.pack.name}" has no bitemporal mode (modes: ${m.modes.join(', ') || 'none'}); it cannot compare two images`);
      }
      if (!viewsB || viewsB.length !== V || viewsB.some((v, i) => v.rect.some((c, k) => c !== input.views[i]!.rect[k]))) {
        throw new VantageError('BAD_INPUT', `a bitemporal ask needs the later image's views on the same ${V} rects as the earlier image's`);
      }
    } else if (viewsB) {
      throw new VantageError('BAD_INPUT', `a second image's views are only taken in bitemporal mode, not ${input.mode}`);
    }
    const images = bitemporal ? 2 : 1;
    if (input.maskDetail !== undefined && input.maskDetail !== 'global' && input.maskDetail !== 'views') {
      throw new VantageError('BAD_INPUT', `maskDetail must be 'global' or 'views', got "${String(input.maskDetail)}"`);
    }
    if (!(input.maxNewTokens >= 1)) throw new VantageError('BAD_INPUT', `maxNewTokens must be at least 1, got ${input.maxNewTokens}`);
    const S = m.view.size, N = m.view.tokens, D = llm.hidden;
    const checkAbort = () => {
      if (signal?.aborted) throw new VantageError('CANCELLED', 'the answer was cancelled');
    };

    // Text the user typed must not smuggle in the image placeholder or source tags: they would break the splice.
    const reserved = [m.tokens.image, m.tokens.sources.optical, m.tokens.sources.sar, m.tokens.sources.infrared];
    const clean = (t: string) => reserved.reduce((acc, r) => acc.split(r).join(''), t);
    const rendered = renderChatPrompt(
      m,
      {
        text: clean(input.text),
        history: input.history.map((h) => ({ role: h.role, text: clean(h.text) })),
        source: input.source,
        mode: input.mode,
        regionCount: input.regions.length,
        system: input.system,
        regions: input.regions,
        view: input.views[0]!.rect,
      },
      { maxTokens: llm.maxContext - input.maxNewTokens, imageExtraTokens: images * (V * N - 1), countTokens: (t) => tok.encode(t).length },
    );
    const ids = tok.encode(rendered.text);
    const imageId = tok.requireId(m.tokens.image);
    const imagePositions = ids.flatMap((id, i) => (id === imageId ? [i] : []));
    if (imagePositions.length !== images) {
      throw new VantageError('INTERNAL', `the rendered prompt must hold exactly ${images} ${m.tokens.image}, it holds ${imagePositions.length}`);
    }

    // ---- vision + prompt
    const pix = this.pixels(input.views, m.view.mean, m.view.std);
    const vOut = await this.timed('vision', vision, { pixel_values: feed(vision, 'pixel_values', pix, [V, 3, S, S]) });
    const visual = floats(vOut.visual_tokens, 'visual_tokens');
    if (this.taps) Object.assign(this.taps, { pixel_values: pix, visual_tokens: visual.slice() });
    checkAbort();
    const regionMasks = rasterizeRegions(input.regions, input.views[0]!.rect, S);
    const pOut = await this.timed('prompt', prompt, {
      visual_tokens: feed(prompt, 'visual_tokens', visual, [V, N, D]),
      region_masks: feed(prompt, 'region_masks', regionMasks.data, [regionMasks.count, S, S]),
    });
    const imageEmbeds = floats(pOut.image_embeds, 'image_embeds');
    const regionEmbeds = floats(pOut.region_embeds, 'region_embeds');
    if (this.taps) Object.assign(this.taps, { region_masks: regionMasks.data, image_embeds: imageEmbeds.slice(), region_embeds: regionEmbeds.slice() });
    checkAbort();
    // one embedding block per <image>, in order: A's, then (bitemporal) B's from the same two stages on B's views,
    // with the same region masks (regions are drawn in A's global view; their embeddings come from A's pass)
    const imageBlocks: Float32Array[] = [imageEmbeds.slice(0, V * N * D)];
    if (viewsB) {
      const pixB = this.pixels(viewsB, m.view.mean, m.view.std);
      const vB = await this.timed('vision', vision, { pixel_values: feed(vision, 'pixel_values', pixB, [V, 3, S, S]) });
      checkAbort();
      const pB = await this.timed('prompt', prompt, {
        visual_tokens: feed(prompt, 'visual_tokens', floats(vB.visual_tokens, 'visual_tokens'), [V, N, D]),
        region_masks: feed(prompt, 'region_masks', regionMasks.data, [regionMasks.count, S, S]),
      });
      imageBlocks.push(floats(pB.image_embeds, 'image_embeds').slice(0, V * N * D));
      checkAbort();
    }

    // ---- embed + splice
    const runner = makeRunner();
    try {
      return await this.decode(input, cb, signal, { t0, ids, imagePositions, images, imageBlocks, regionEmbeds, forced, rendered, runner, clean });
    } finally {
      runner.dispose();
    }
  }

  private async decode(
    input: AskInput,
    cb: AskCallbacks,
    signal: AbortSignal | undefined,
    a: {
      t0: number;
      ids: number[];
      imagePositions: number[];
      images: number;
      imageBlocks: Float32Array[];
      regionEmbeds: Float32Array;
      forced: boolean;
      rendered: { text: string; droppedTurns: number };
      runner: DecodeRunner;
      clean: (t: string) => string;
    },
  ): Promise<AskResult> {
    const { t0, ids, imagePositions, images, imageBlocks, regionEmbeds, forced, rendered, runner, clean } = a;
    const m = this.pack.manifest;
    const llm = m.llm!;
    const tok = this.tokenizer!;
    const V = input.views.length;
    const N = m.view.tokens, D = llm.hidden;
    const checkAbort = () => {
      if (signal?.aborted) throw new VantageError('CANCELLED', 'the answer was cancelled');
    };
    const tokenEmbeds = await runner.embedIds(ids);
    if (this.taps) this.taps.inputs_embeds = tokenEmbeds.slice();
    const regionIds = new Map<number, number>();
    // geochat-box packs read regions as box text in the prompt: no `<region{k}>` ids, no region rows spliced
    const regionRows = regionFormatOf(m) === 'embedding' ? input.regions.length : 0;
    for (let k = 1; k <= regionRows; k++) regionIds.set(tok.requireId(regionToken(m, k)), k - 1);
    const T = ids.length + images * (V * N - 1);
    const seq = new Float32Array(T * D);
    let row = 0;
    const segId = tok.requireId(m.tokens.seg);
    const segPositions: number[] = []; // sequence positions of <SEG> forced into the prompt (ground mode)
    const assistantStart = ids.length - tok.encode(m.chat.assistantPrefix + (forced ? ` ${m.chat.groundPrefix}` : '')).length;
    ids.forEach((id, i) => {
      const block = imagePositions.indexOf(i);
      if (block >= 0) {
        seq.set(imageBlocks[block]!, row * D);
        row += V * N;
        return;
      }
      const region = regionIds.get(id);
      if (region !== undefined) seq.set(regionEmbeds.subarray(region * D, (region + 1) * D), row * D);
      else seq.set(tokenEmbeds.subarray(i * D, (i + 1) * D), row * D);
      if (id === segId && i >= assistantStart) segPositions.push(row);
      row++;
    });

    // ---- decoder: prefill, then one token at a time (the runner keeps the KV cache)
    const V_ = llm.vocab;
    const globalView = input.views[0]!;
    const generated: number[] = [];
    const phraseOpen = tok.requireId(m.tokens.phraseOpen), phraseClose = tok.requireId(m.tokens.phraseClose);
    const stops = new Set(m.tokens.stop.map((s) => tok.requireId(s)));
    const stream = tok.createStreamDecoder();
    const forcedText = forced ? m.chat.groundPrefix : '';
    let tokenEvents = 0;

    const fine = V > 1 && (input.maskDetail ?? 'views') === 'views';
    // which hidden state feeds the pixel decoder for a <SEG> (manifest pixel.segHidden): 'consuming' (contract v1's
    // default: the row of the <SEG> token itself, known one step later) or 'predicting' (LISA / GLaMM / GeoPixel:
    // hidden[input_ids[:, 1:] == SEG], the row whose logits produced <SEG>, known at once)
    const predicting = m.pixel?.segHidden === 'predicting';
    const emitMask = async (hidden: Float32Array, phraseIds: number[]) => {
      if (!this.canSegment()) return; // chat-only pack: the <SEG> stays text
      const r = fine ? await this.fineSegMask(input.views, hidden, checkAbort) : await this.runPixel(globalView, hidden, [0, 0], [-1]);
      const found = this.phraseOf(phraseIds, phraseOpen, phraseClose, regionIds);
      // A mask answers the question's region when the phrase names none and the question had exactly one.
      const regionIndex = found.regionIndex ?? (input.regions.length === 1 ? 0 : null);
      const mask: MaskResult = { ...r, rect: globalView.rect, phrase: found.phrase ?? (forcedText ? clean(input.text).trim() : null), regionIndex };
      cb.onMask(mask);
    };

    await runner.prefill(seq, T);
    if (this.taps) this.taps.prefill_logits = runner.stepLogits().slice();
    const firstLogits = input.trace ? runner.lastLogits().slice() : new Float32Array(0);
    checkAbort();
    if (forcedText) {
      cb.onToken(tokenEvents++, forcedText);
      for (const pos of segPositions) await emitMask(runner.hidden(predicting ? pos - 1 : pos), []);
    }

    // the forced prefix and the generated answer are joined by one space, in the stream as in the final text
    let answerSep = forcedText ? ' ' : '';
    const sampler = new TokenSampler(input.sampling);
    const traceIds: number[] = [];
    for (;;) {
      checkAbort();
      const next = sampler.next(runner.lastLogits(), 0, V_);
      traceIds.push(next);
      if (stops.has(next)) break;
      generated.push(next);
      const delta = stream.push(next);
      if (delta) {
        cb.onToken(tokenEvents++, answerSep + delta);
        answerSep = '';
      }
      const full = generated.length >= input.maxNewTokens;
      if (next === segId && predicting) await emitMask(runner.lastHidden(), generated.slice(0, -1));
      if (full && (next !== segId || predicting)) break;
      await runner.next(next);
      if (next === segId && !predicting) await emitMask(runner.hidden(0), generated.slice(0, -1));
      if (full) break;
    }

    const answer = stream.text;
    const result: AskResult = {
      text: forcedText ? `${forcedText}${answer ? ' ' + answer : ''}` : answer,
      durationMs: performance.now() - t0,
      provider: this.provider,
      tokens: generated.length,
      droppedTurns: rendered.droppedTurns,
    };
    if (input.trace) {
      result.trace = { prompt: rendered.text, inputIds: ids, sequenceLength: T, firstLogits, generatedIds: traceIds };
    }
    return result;
  }

  /** The phrase inside the nearest `<p> … </p>` before a `<SEG>`, and the region it names, if any. */
  private phraseOf(ids: number[], open: number, close: number, regionIds: Map<number, number>): { phrase: string | null; regionIndex: number | null } {
    const o = ids.lastIndexOf(open);
    if (o < 0) return { phrase: null, regionIndex: null };
    let c = ids.indexOf(close, o + 1);
    if (c < 0) c = ids.length;
    const inner = ids.slice(o + 1, c);
    let regionIndex: number | null = null;
    for (const id of inner) if (regionIds.has(id)) regionIndex = regionIds.get(id)!;
    const text = this.tokenizer!.decode(inner.filter((id) => !regionIds.has(id))).trim();
    return { phrase: text || null, regionIndex };
  }

  /** A mask from point/box prompts alone (has_seg = 0) on one view; coordinates in image pixels. */
  async instantMask(view: ViewInput, prompt: InstantPrompt): Promise<MaskResult> {
    const S = this.pack.manifest.view.size;
    const [x0, y0, x1, y1] = view.rect;
    const vx = (x: number) => ((x - x0) * S) / (x1 - x0);
    const vy = (y: number) => ((y - y0) * S) / (y1 - y0);
    let points: number[];
    let labels: number[];
    switch (prompt.kind) {
      case 'point':
        points = [vx(prompt.x), vy(prompt.y)];
        labels = [prompt.label ?? 1];
        break;
      case 'box':
        points = [vx(Math.min(prompt.x0, prompt.x1)), vy(Math.min(prompt.y0, prompt.y1)), vx(Math.max(prompt.x0, prompt.x1)), vy(Math.max(prompt.y0, prompt.y1))];
        labels = [2, 3];
        break;
      case 'points':
        if (prompt.points.length === 0) throw new VantageError('BAD_INPUT', 'an instant mask needs at least one point');
        points = prompt.points.flatMap((p) => [vx(p.x), vy(p.y)]);
        labels = prompt.points.map((p) => p.label);
        break;
    }
    if (points.some((v) => !Number.isFinite(v) || v < 0 || v > S)) {
      throw new VantageError('BAD_INPUT', `the ${prompt.kind} prompt lies outside the view ${view.rect.join(',')}; click on the image`);
    }
    const runsBefore = this.groundingStats.runs;
    const r = await this.runPixel(view, null, points, labels);
    return { ...r, rect: view.rect, phrase: null, regionIndex: null, cachedFeatures: this.groundingStats.runs === runsBefore };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.groundingCache.clear();
    this.native?.release();
    this.native = null;
    for (const k of Object.keys(this.sessions) as StageName[]) {
      const s = this.sessions[k];
      delete this.sessions[k];
      await s?.release();
    }
  }
}
