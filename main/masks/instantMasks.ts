import type { ParsedInputOf } from '../contract/procedures.js';
import type { InstantMask } from '../contract/calls/chat.js';
import { VantageError } from '../contract/errors.js';
import { assertInside } from '../contract/geometry.js';
import type { ImageInfo, RegionGeometry, Turn } from '../contract/index.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import { instantTile, instantTileViews, regionBounds } from '../inference/viewPlanner.js';
import type { ModelService } from '../packs/modelService.js';
import { packProvenanceOf } from '../packs/packSignature.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import type { InferencePort, MaskOut, Rect } from '../inference/protocol.js';
import { measureMask } from './measure.js';

export type PromptRegion = Extract<RegionGeometry, { kind: 'point' | 'box' }>;

/** Instant-mask views are fixed image tiles; their grounding features are cached in the worker by this key. */
const instantViewKey = (imageId: string, rect: readonly number[]) =>
  `${imageId}:${Math.max(rect[2]! - rect[0]!, rect[3]! - rect[1]!)}:${rect.join(',')}`;

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
   * (viewPlanner.instantTile: k·S full-resolution pixels per tile, so the mask keeps detail on large images). The
   * tile's grounding features are cached in the worker, so a second click in the same tile runs only the pixel
   * decoder; a click in another tile computes that tile's. A box across a tile edge uses the global view.
   * `viewSpanPx` (the visible map's shorter side in image pixels) sizes the tile to what the analyst sees
   * (viewPlanner.instantTileViews); absent, tiles are INSTANT_TILE_VIEWS·S. Nothing is stored.
   */
  async instantMask(input: ParsedInputOf<'chat.instantMask'>): Promise<InstantMask> {
    const t0 = performance.now();
    const { info } = await this.sessions.imageOf(input.sessionId, input.imageId);
    const r = input.region;
    if (r.kind !== 'point' && r.kind !== 'box') throw new VantageError('BAD_INPUT', `instant masks take a point or a box, got a ${(r as RegionGeometry).kind}`);
    assertInside(r, info.width, info.height);
    await this.assertCanMask();
    const { m } = await this.instantRun(info, r, this.instantTileOf(info, r, input.viewSpanPx), null);
    const out = measureMask(m, info);
    return {
      polygons: out ? out.polygons : [],
      bbox: out ? out.bbox : null,
      score: m.score,
      areaPx: out ? out.areaPx : 0,
      cached: m.cachedFeatures === true,
      tile: [...m.rect] as [number, number, number, number],
      ms: performance.now() - t0,
    };
  }

  /** refuses (before any work) when the loaded pack has no grounding/pixel stages */
  async assertCanMask(): Promise<void> {
    await this.models.ensureReady();
    const pack = this.models.status().pack;
    if (!pack || !this.host.capabilities.masks) {
      throw new VantageError('UNSUPPORTED', `the loaded model pack "${pack?.name ?? 'none'}" cannot draw masks (no grounding/pixel stages)`);
    }
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
    const size = this.host.viewSize;
    const k = instantTileViews(info.width, info.height, size, viewSpanPx);
    return instantTile(info.width, info.height, size, regionBounds(r), k) ?? this.host.planViews(info.width, info.height, [r])[0]!;
  }

  /**
   * Grounding + pixel stages for one point/box on `rect` (features cached in the worker per tile). `tileRgb` reuses
   * the tile pixels a previous prompt on the same rect read (batches run prompts sorted by tile).
   */
  async instantRun(info: ImageInfo, r: PromptRegion, rect: Rect, tileRgb: Uint8Array | null): Promise<{ m: MaskOut; rgb: Uint8Array }> {
    const size = this.host.viewSize;
    const rgb = tileRgb ?? (await this.imagery.readRgb(info.id, rect, size, size));
    const prompt = r.kind === 'point' ? { kind: 'point' as const, x: r.x, y: r.y } : { kind: 'box' as const, x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1 };
    // the worker takes the buffer (transfer): it gets a copy, the caller keeps the tile for the next prompt
    const m = await this.host.instantMask({ rect, rgb: rgb.slice(), key: instantViewKey(info.id, rect) }, prompt);
    return { m, rgb };
  }
}
