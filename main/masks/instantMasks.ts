import type { ParsedInputOf } from '../contract/procedures.js';
import type { InstantMask } from '../contract/calls/chat.js';
import { VantageError } from '../contract/errors.js';
import { assertInside } from '../contract/geometry.js';
import type { ImageInfo, RegionGeometry, Turn } from '../contract/index.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import { instantTile, instantTileViews, regionBounds } from '../inference/viewPlanner.js';
import { groundingViewOf, samViewGeometry } from '../inference/viewResample.js';
import type { ModelService } from '../packs/modelService.js';
import { packProvenanceOf } from '../packs/packSignature.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import type { InferencePort, MaskOut, Rect } from '../inference/protocol.js';
import { measureMask } from './measure.js';
import { classicalSegment, classicalWindow } from '../analysis/classicalSegment.js';
import type { MaskMethod } from '../contract/calls/chat.js';

export type PromptRegion = Extract<RegionGeometry, { kind: 'point' | 'box' }>;

/** Instant-mask views are fixed image tiles; their grounding features are cached in the worker by this key. */
const instantViewKey = (imageId: string, rect: readonly number[]) =>
  `${imageId}:${Math.max(rect[2]! - rect[0]!, rect[3]! - rect[1]!)}:${rect.join(',')}`;

/** the image rect and working size of a classical mask: a point searches a third of the visible map (64–1024 px; 160 px without a view span) */
export function classicalWindowOf(info: ImageInfo, r: PromptRegion, viewSpanPx?: number): { rect: Rect; size: number } {
  return classicalWindow(info.width, info.height, r, viewSpanPx ? Math.max(64, Math.min(1024, viewSpanPx / 3)) : 160);
}

/**
 * Masks from a point or a box alone (no question): grounding + pixel stages on fixed image tiles, their features
 * cached in the inference worker per tile. Used for the instant-mask tool and, prompt by prompt, by batch masks.
 */
export class InstantMaskService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly imagery: ImageryPort,
    private readonly models: ModelService,
    private readonly host: InferencePort,
  ) {}

  /**
   * A mask preview from a point or box alone: grounding + pixel stages on the fixed image tile the prompt falls in
   * (viewPlanner.instantTile: k·G full-resolution pixels per tile, G the grounding stage's input side — the view size S
   * unless the pack says `grounding.size` — so the mask keeps detail on large images). The
   * tile's grounding features are cached in the worker, so a second click in the same tile runs only the pixel
   * decoder; a click in another tile computes that tile's. A box across a tile edge uses the global view.
   * `viewSpanPx` (the visible map's shorter side in image pixels) sizes the tile to what the analyst sees
   * (viewPlanner.instantTileViews); absent, tiles are INSTANT_TILE_VIEWS·G. Nothing is stored.
   */
  async instantMask(input: ParsedInputOf<'chat.instantMask'>): Promise<InstantMask> {
    const t0 = performance.now();
    const { info } = await this.sessions.imageOf(input.sessionId, input.imageId);
    const r = input.region;
    if (r.kind !== 'point' && r.kind !== 'box') throw new VantageError('BAD_INPUT', `instant masks take a point or a box, got a ${(r as RegionGeometry).kind}`);
    assertInside(r, info.width, info.height);
    const method = await this.maskMethod();
    const { m } =
      method === 'classical'
        ? await this.classicalRun(info, r, input.viewSpanPx)
        : await this.instantRun(info, r, this.instantTileOf(info, r, input.viewSpanPx), null);
    const out = measureMask(m, info);
    return {
      method,
      polygons: out ? out.polygons : [],
      bbox: out ? out.bbox : null,
      score: m.score,
      areaPx: out ? out.areaPx : 0,
      cached: m.cachedFeatures === true,
      tile: [...m.rect] as [number, number, number, number],
      ms: performance.now() - t0,
    };
  }

  /**
   * How a point or box becomes a mask: 'model' when the loaded pack has grounding + pixel stages, else 'classical'
   * (no pack, a pack that does not load, or one without those stages): a segmentation of the displayed pixels alone.
   */
  async maskMethod(): Promise<MaskMethod> {
    // a pack that failed to load is not retried on every click (installing or selecting a pack loads it again)
    if (this.models.status().state === 'error') return 'classical';
    try {
      await this.models.ensureReady();
    } catch {
      return 'classical';
    }
    return this.models.status().pack && this.host.capabilities.masks ? 'model' : 'classical';
  }

  /**
   * A classical mask (analysis/classicalSegment.ts) of the displayed pixels around the prompt, read at a bounded
   * working resolution; `viewSpanPx` sizes a point's search window to what the analyst sees (at least 64 px, a third
   * of the view). No model, nothing cached; `score` 0.
   */
  async classicalRun(info: ImageInfo, r: PromptRegion, viewSpanPx?: number): Promise<{ m: MaskOut }> {
    const { rect, size } = classicalWindowOf(info, r, viewSpanPx);
    const rgb = await this.imagery.readRgb(info.id, rect, size, size);
    const sx = size / (rect[2] - rect[0]);
    const sy = size / (rect[3] - rect[1]);
    const prompt =
      r.kind === 'point'
        ? { kind: 'point' as const, x: (r.x - rect[0]) * sx, y: (r.y - rect[1]) * sy }
        : { kind: 'box' as const, x0: (r.x0 - rect[0]) * sx, y0: (r.y0 - rect[1]) * sy, x1: (r.x1 - rect[0]) * sx, y1: (r.y1 - rect[1]) * sy };
    const data = classicalSegment({ width: size, height: size, data: rgb }, prompt);
    return { m: { data, size, rect, score: 0, phrase: null, regionIndex: null, cachedFeatures: false } };
  }

  /** the loaded pack and the pixel stage's execution provider, for a stored turn's provenance */
  packProvenance(): { pack: Turn['pack']; provider: string | null } {
    const st = this.models.status();
    return {
      pack: packProvenanceOf(st.pack),
      provider: st.stageProviders.pixel ?? st.stageProviders.grounding ?? null,
    };
  }

  /** the fixed image tile an instant mask for `r` runs on (the global view for a box across a tile edge) */
  instantTileOf(info: ImageInfo, r: PromptRegion, viewSpanPx?: number): Rect {
    const size = this.host.groundingSize ?? this.host.viewSize;
    const k = instantTileViews(info.width, info.height, size, viewSpanPx);
    return instantTile(info.width, info.height, size, regionBounds(r), k) ?? this.host.planViews(info.width, info.height, [r])[0]!;
  }

  /**
   * Grounding + pixel stages for one point/box on `rect` (features cached in the worker per tile). `tileRgb` reuses
   * the tile pixels a previous prompt on the same rect read (batches run prompts sorted by tile).
   */
  async instantRun(info: ImageInfo, r: PromptRegion, rect: Rect, tileRgb: Uint8Array | null): Promise<{ m: MaskOut; rgb: Uint8Array }> {
    // the grounding stage's own input side (manifest grounding.size: SAM packs 1024 whatever the vision view)
    const size = this.host.groundingSize ?? this.host.viewSize;
    const prompt = r.kind === 'point' ? { kind: 'point' as const, x: r.x, y: r.y } : { kind: 'box' as const, x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1 };
    const key = instantViewKey(info.id, rect);
    const sam = this.host.instantPreprocess === 'sam';
    // SAM packs: SamPredictor.set_image's input — the tile at full resolution, longest side resized to G, padded
    // bottom/right; the mask's rect is the padded square, its cells wholly in the padding cleared by the worker
    const g = sam ? samViewGeometry(info.width, info.height, rect, size) : null;
    const view = tileRgb
      ? { rect: g?.rect ?? rect, rgb: tileRgb, ...(g ? { inside: g.inside } : {}) }
      : await groundingViewOf((q, w, h) => this.imagery.readRgb(info.id, q, w, h), info.width, info.height, rect, size, sam ? 'sam' : 'view');
    // the worker takes the buffer (transfer): it gets a copy, the caller keeps the tile for the next prompt
    const m = await this.host.instantMask({ ...view, rgb: view.rgb.slice(), key: sam ? `${key}:sam` : key }, prompt);
    return { m, rgb: view.rgb };
  }
}
