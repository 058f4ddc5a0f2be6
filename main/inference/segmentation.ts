import { createHash } from 'node:crypto';
import { VantageError } from '../contract/errors.js';
import type { PackBackend } from './backend.js';
import { composeViewMasks } from './maskCompose.js';
import type { InstantPrompt, MaskResult, ViewInput } from './protocol.js';
import type { TapBox } from './taps.js';
import { resizeBicubicPil } from './pilResize.js';
import { feed, floats } from './tensorIo.js';
import { normalizeViews } from './viewPixels.js';
import { dropMaskPadding } from './viewResample.js';
import type { Rect } from './viewPlanner.js';

const GROUNDING_CACHE_SIZE = 8;

/**
 * An M×M grid resized to N×N as torch.nn.functional.interpolate(mode="bilinear", align_corners=False) does (SAM's
 * postprocess_masks): source coordinate (o + 0.5)·M/N − 0.5, clamped at 0, the upper neighbour clamped at M − 1.
 */
export function upsampleBilinear(src: ArrayLike<number>, M: number, N: number): Float32Array {
  const scale = M / N;
  const i0 = new Int32Array(N), i1 = new Int32Array(N), w = new Float64Array(N);
  for (let o = 0; o < N; o++) {
    const x = Math.max(0, (o + 0.5) * scale - 0.5);
    const k = Math.floor(x);
    i0[o] = k;
    i1[o] = k < M - 1 ? k + 1 : k;
    w[o] = x - k;
  }
  const out = new Float32Array(N * N);
  for (let y = 0; y < N; y++) {
    const r0 = i0[y]! * M, r1 = i1[y]! * M, wy = w[y]!;
    for (let x = 0; x < N; x++) {
      const a = i0[x]!, b = i1[x]!, wx = w[x]!;
      const top = (1 - wx) * src[r0 + a]! + wx * src[r0 + b]!;
      const bottom = (1 - wx) * src[r1 + a]! + wx * src[r1 + b]!;
      out[y * N + x] = (1 - wy) * top + wy * bottom;
    }
  }
  return out;
}

type RawMask = { data: Uint8Array; size: number; score: number };

/** zero [3,S,S] pixel_values outside the top-left w×h (SamPredictor.preprocess pads the normalised image with 0) */
function zeroPadding(pv: Float32Array, S: number, [w, h]: readonly [number, number]): void {
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < S; y++) {
      const row = c * S * S + y * S;
      if (y >= h) pv.fill(0, row, row + S);
      else if (w < S) pv.fill(0, row + w, row + S);
    }
}

/**
 * The segmentation pipeline: grounding features (cached per view), the pixel decoder, fine `<SEG>` masks composed
 * from every view, and instant masks from a point or box alone. The chat pipeline calls segMask for each `<SEG>`.
 */
export class SegmentationPipeline {
  private readonly groundingCache = new Map<string, Float32Array>();
  /** grounding-encoder runs vs cache hits: how tests and the benchmark see which path a click took */
  readonly groundingStats = { runs: 0, hits: 0 };

  constructor(
    private readonly backend: PackBackend,
    private readonly taps: TapBox,
  ) {}

  private get manifest() {
    return this.backend.pack.manifest;
  }

  /** G, the grounding stage's input side (manifest grounding.size; SAM packs 1024), by default the view size S */
  get groundingSize(): number {
    return this.manifest.grounding?.size ?? this.manifest.view.size;
  }

  /**
   * A view as the grounding stage takes it: as given when it holds G×G pixels (an instant-mask tile, an ask's
   * grounding view), else its S×S pixels resized to G×G (Pillow bicubic) — a fallback for callers without one.
   */
  groundingView(v: ViewInput): ViewInput {
    const G = this.groundingSize, S = this.manifest.view.size;
    // anything but an S×S view goes on as it is: groundingFeatures refuses a wrong size with a clear error
    if (v.rgb.length === G * G * 3 || v.rgb.length !== S * S * 3) return v;
    return { rect: v.rect, rgb: resizeBicubicPil(v.rgb, S, S, G, G), key: v.key ? `${v.key}:g${G}` : undefined };
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
    const s = this.backend.stage('grounding', 'masks');
    const g = this.manifest.grounding!;
    const S = this.groundingSize;
    if (v.rgb.length !== S * S * 3) throw new VantageError('BAD_INPUT', `a grounding view must hold ${S}×${S} pixels (the pack's grounding.size), got ${v.rgb.length / 3}`);
    const pv = normalizeViews([v], S, g.mean, g.std);
    if (v.inside) zeroPadding(pv, S, v.inside);
    const out = await this.backend.timed('grounding', s, { pixel_values: feed(s, 'pixel_values', pv, [1, 3, S, S]) });
    this.groundingStats.runs++;
    const feats = floats(out.image_embeddings, 'image_embeddings').slice();
    this.taps.current?.grounding_pixel_values.push(pv);
    this.taps.current?.image_embeddings.push(feats);
    this.groundingCache.set(key, feats);
    // room for one ask's views (fine <SEG> masks use them all) beside the recent instant-mask tiles
    const cap = GROUNDING_CACHE_SIZE + this.manifest.view.maxViews;
    while (this.groundingCache.size > cap) this.groundingCache.delete(this.groundingCache.keys().next().value!);
    return feats;
  }

  /** the pixel decoder on one view (its grounding features through the cache): M×M logits and the score */
  private async pixelLogits(
    view: ViewInput,
    segHidden: Float32Array | null,
    points: number[],
    labels: number[],
  ): Promise<{ logits: Float32Array; size: number; score: number }> {
    const m = this.manifest;
    const s = this.backend.stage('pixel', 'masks');
    const feats = await this.groundingFeatures(view);
    const D = m.llm?.hidden ?? segHidden?.length ?? 1;
    const C = m.grounding!.channels, g = m.grounding!.grid;
    const P = labels.length;
    const out = await this.backend.timed('pixel', s, {
      image_embeddings: feed(s, 'image_embeddings', feats, [1, C, g, g]),
      seg_hidden: feed(s, 'seg_hidden', segHidden ?? new Float32Array(D), [1, D]),
      has_seg: feed(s, 'has_seg', [segHidden ? 1 : 0], [1]),
      points: feed(s, 'points', points, [1, P, 2]),
      point_labels: feed(s, 'point_labels', labels, [1, P]),
    });
    const logits = floats(out.mask_logits, 'mask_logits');
    this.taps.current?.mask_logits.push(logits.slice());
    const M = m.pixel?.maskSize ?? Math.round(Math.sqrt(logits.length));
    return { logits, size: M, score: floats(out.score, 'score')[0] ?? 0 };
  }

  /**
   * The mask of one pixel-decoder run: logits > 0 on its M×M grid, or — `upsampleTo` S, SAM's postprocess_masks —
   * the logits interpolated bilinearly to S×S first (SamPredictor thresholds the upsampled logits, not the low-res ones)
   */
  private async runPixel(view: ViewInput, segHidden: Float32Array | null, points: number[], labels: number[], upsampleTo?: number): Promise<RawMask> {
    const { logits, size: M, score } = await this.pixelLogits(view, segHidden, points, labels);
    const N = upsampleTo && upsampleTo > M ? upsampleTo : M;
    const grid = N === M ? logits : upsampleBilinear(logits, M, N);
    const data = new Uint8Array(N * N);
    for (let i = 0; i < N * N; i++) data[i] = grid[i]! > 0 ? 1 : 0;
    return { data, size: N, score };
  }

  /**
   * The mask for one `<SEG>` (has_seg = 1, one padding point): the pixel decoder on the global view alone, or —
   * `fine` — on the global view and on every sub-view, composed over the global rect (maskCompose.ts) at the
   * sub-views' resolution. The score is the global view's. A SAM pack's global mask is G×G (runPixel's upsampling).
   * `grounding`: the ask's grounding view of the global rect (AskRequest.groundingView: SAM's own input for SAM
   * packs, as LISA / GeoPixel feed SAM); with it, or when G ≠ S, the mask is that one view's alone, over its rect.
   */
  async segMask(views: ViewInput[], hidden: Float32Array, fine: boolean, checkAbort: () => void, grounding?: ViewInput): Promise<RawMask & { rect: Rect }> {
    const G = this.groundingSize;
    if (grounding || !fine || G !== this.manifest.view.size) {
      const gv = this.groundingView(grounding ?? views[0]!);
      // a SAM pack (LISA / GeoPixel) thresholds the logits after postprocess_masks' upsampling to the G×G input
      const r = await this.runPixel(gv, hidden, [0, 0], [-1], this.manifest.grounding?.preprocess === 'sam' ? G : undefined);
      if (gv.inside) dropMaskPadding(r.data, r.size, G, gv.inside);
      return { ...r, rect: gv.rect };
    }
    const global = await this.pixelLogits(views[0]!, hidden, [0, 0], [-1]);
    const subs: { rect: ViewInput['rect']; logits: Float32Array }[] = [];
    for (const v of views.slice(1)) {
      checkAbort();
      subs.push({ rect: v.rect, logits: (await this.pixelLogits(v, hidden, [0, 0], [-1])).logits });
    }
    const c = composeViewMasks({ rect: views[0]!.rect, logits: global.logits }, subs, global.size);
    const taps = this.taps.current;
    if (taps) (taps.fine_mask_logits ??= []).push(c.logits);
    return { data: c.data, size: c.size, score: global.score, rect: views[0]!.rect };
  }

  /** A mask from point/box prompts alone (has_seg = 0) on one view; coordinates in image pixels. */
  async instantMask(given: ViewInput, prompt: InstantPrompt): Promise<MaskResult> {
    const S = this.groundingSize;
    const view = this.groundingView(given);
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
    // a SAM pack's instant mask is SamPredictor's: low-res logits upsampled to the G×G input before the threshold;
    // cells wholly in a SAM view's padding cleared
    const r = await this.runPixel(view, null, points, labels, this.manifest.grounding?.preprocess === 'sam' ? S : undefined);
    if (view.inside) dropMaskPadding(r.data, r.size, S, view.inside);
    return { ...r, rect: view.rect, phrase: null, regionIndex: null, cachedFeatures: this.groundingStats.runs === runsBefore };
  }

  dispose(): void {
    this.groundingCache.clear();
  }
}
