import type { ChatEvent, ImageInfo, Mask, RegionGeometry, Turn } from '../contract/index.js';

export type PromptRegion = Extract<RegionGeometry, { kind: 'point' | 'box' }>;
import { VantageError } from '../contract/errors.js';
import type { CaseRepository, NewMask } from '../../db/repository.js';
import { encodeRle, maskArea, maskBounds, vectorizeMask } from '../analysis/maskVectorizer.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import type { ModelService } from '../packs/modelService.js';
import { packProvenanceOf } from '../packs/packSignature.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import type { AskRequest, InferencePort, MaskOut, Rect } from './inferencePort.js';
import { regionToWgs84 } from './regionWgs84.js';
import type { InstantMask } from '../contract/calls/chat.js';
import { applyTaskTemplate, TASK_MODE_SPECS, type TaskMode } from '../contract/taskModes.js';
import { instantTile, instantTileViews, regionBounds } from '../inference/viewPlanner.js';

export interface AskInput {
  sessionId: string;
  imageId: string;
  text: string;
  regions: import('../contract/index.js').RegionGeometry[];
  mode: TaskMode;
  maxNewTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
}

/** Instant-mask views are fixed image tiles; their grounding features are cached in the worker by this key. */
const instantViewKey = (imageId: string, rect: readonly number[]) =>
  `${imageId}:${Math.max(rect[2]! - rect[0]!, rect[3]! - rect[1]!)}:${rect.join(',')}`;

/**
 * One question, end to end: store the question (durable before the model starts), build the views from the
 * imagery engine, stream the answer from the inference worker, turn masks into stored, vectorised outlines, and
 * close the assistant turn with its provenance (pack + hash, execution provider, duration).
 */
export class ChatService {
  constructor(
    private readonly repo: CaseRepository,
    private readonly sessions: SessionsService,
    private readonly imagery: ImageryPort,
    private readonly models: ModelService,
    private readonly host: InferencePort,
  ) {}

  async ask(input: AskInput, emit: (e: ChatEvent) => void, signal: AbortSignal): Promise<void> {
    const { info } = await this.sessions.imageOf(input.sessionId, input.imageId);
    for (const r of input.regions) assertInside(r, info.width, info.height);
    const spec = TASK_MODE_SPECS[input.mode];
    if (input.text.trim() === '' && !spec.textOptional) throw new VantageError('BAD_INPUT', `type a question (${spec.label} needs text)`);
    if (input.regions.length < spec.minRegions) {
      throw new VantageError('BAD_INPUT', `${spec.label} needs ${spec.minRegions} region(s) drawn on the image, got ${input.regions.length}`);
    }
    await this.models.ensureReady();
    const model = this.models.status();
    if (!model.pack?.stages.includes('decoder')) {
      throw new VantageError('UNSUPPORTED', `the loaded model pack "${model.pack?.name ?? 'none'}" cannot chat (no decoder stage)`);
    }
    // Before anything is stored: a question the pack cannot take must not leave a failed turn in the case.
    const sources = this.host.sources;
    if (!sources.includes(info.source)) {
      throw new VantageError(
        'UNSUPPORTED',
        `model pack "${model.pack.name}" does not take ${info.source} imagery; it takes ${sources.join(', ') || 'none'}. Load a pack made for ${info.source} images, or ask about another image`,
      );
    }
    const history = this.repo
      .listTurns(input.sessionId)
      .filter((t) => t.imageId === input.imageId && t.status === 'complete' && t.text !== '')
      .map((t) => ({ role: t.role, text: t.text }));

    const saved = this.repo.addQuestion({
      sessionId: input.sessionId,
      imageId: input.imageId,
      // the preset's instruction is stored with the text, so the case history (and later turns) read as asked
      text: applyTaskTemplate(input.mode, input.text),
      regions: input.regions.map((geometry) => ({ geometry, wgs84: info.georeferenced ? regionToWgs84(geometry, info) : null })),
    });
    emit({ type: 'saved', userTurn: saved.userTurn, regions: saved.regions, assistantTurnId: saved.assistantTurnId });

    const size = this.host.viewSize;
    const rects = this.host.planViews(info.width, info.height, input.regions);
    const views = await Promise.all(rects.map(async (rect) => ({ rect, rgb: await this.imagery.readRgb(info.id, rect, size, size) })));

    const pack = packProvenanceOf(model.pack);
    await this.streamAnswer(
      {
        views,
        regions: input.regions,
        text: input.text,
        history,
        source: info.source,
        mode: input.mode,
        maxNewTokens: input.maxNewTokens,
        sampling: { temperature: input.temperature ?? 0, topP: input.topP ?? 1, seed: input.seed ?? 0 },
      },
      { assistantTurnId: saved.assistantTurnId, regionIds: saved.regions.map((r) => r.id), imageId: info.id, pack },
      emit,
      signal,
    );
  }

  /**
   * Streams the model's answer into the assistant turn a question opened: tokens as they come, masks stored and
   * vectorised on `imageId`, then the turn closed with its provenance — or marked cancelled/failed with the text so far.
   */
  async streamAnswer(
    request: AskRequest,
    turn: { assistantTurnId: string; regionIds: string[]; imageId: string; pack: Turn['pack'] },
    emit: (e: ChatEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let text = '';
    const finish = (status: Turn['status'], durationMs: number | null, provider: string | null) =>
      this.repo.finishTurn(turn.assistantTurnId, { text, status, durationMs, pack: turn.pack, provider });
    try {
      const result = await this.host.ask(
        request,
        (e) => {
          if (e.type === 'token') {
            text += e.text;
            emit(e);
          } else {
            const mask = this.storeMask(e.mask, turn.assistantTurnId, turn.imageId, turn.regionIds);
            if (mask) emit({ type: 'mask', mask });
          }
        },
        signal,
      );
      text = result.text;
      emit({ type: 'done', turn: finish('complete', result.durationMs, result.provider) });
    } catch (err) {
      const cancelled = signal.aborted || VantageError.from(err).code === 'CANCELLED';
      finish(cancelled ? 'cancelled' : 'failed', null, null);
      if (cancelled) return;
      throw err;
    }
  }

  /**
   * A mask preview from a point or box alone: grounding + pixel stages on the fixed image tile the prompt falls in
   * (viewPlanner.instantTile: k·S full-resolution pixels per tile, so the mask keeps detail on large images). The
   * tile's grounding features are cached in the worker, so a second click in the same tile runs only the pixel
   * decoder; a click in another tile computes that tile's. A box across a tile edge uses the global view.
   * `viewSpanPx` (the visible map's shorter side in image pixels) sizes the tile to what the analyst sees
   * (viewPlanner.instantTileViews); absent, tiles are INSTANT_TILE_VIEWS·S. Nothing is stored.
   */
  async instantMask(input: { sessionId: string; imageId: string; region: AskInput['regions'][number]; viewSpanPx?: number }): Promise<InstantMask> {
    const t0 = performance.now();
    const { info } = await this.sessions.imageOf(input.sessionId, input.imageId);
    const r = input.region;
    if (r.kind !== 'point' && r.kind !== 'box') throw new VantageError('BAD_INPUT', `instant masks take a point or a box, got a ${r.kind}`);
    assertInside(r, info.width, info.height);
    await this.assertCanMask();
    const { m } = await this.instantRun(info, r, this.instantTileOf(info, r, input.viewSpanPx), null);
    const out = measureMask(m);
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
    if (!pack?.stages.includes('grounding') || !pack.stages.includes('pixel')) {
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

  /** a model mask → stored, vectorised outline on the image (also used by change captioning) */
  private storeMask(m: MaskOut, turnId: string, imageId: string, regionIds: string[]): Mask | null {
    const out = measureMask(m);
    if (!out) return null; // the model found nothing: no empty outline is stored
    return this.repo.addMask({
      turnId,
      imageId,
      regionId: m.regionIndex !== null ? (regionIds[m.regionIndex] ?? null) : null,
      phrase: m.phrase,
      score: m.score,
      ...out,
    });
  }
}

/** A model mask → its outline, bbox, area and raster in image pixels (what a stored mask holds); null when empty. */
export function measureMask(m: MaskOut): Pick<NewMask, 'bbox' | 'rle' | 'polygons' | 'areaPx'> | null {
  const grid = { width: m.size, height: m.size, data: m.data };
  const bounds = maskBounds(grid);
  if (!bounds) return null;
  const [x0, y0, x1, y1] = m.rect;
  const placement = { x0, y0, sx: (x1 - x0) / m.size, sy: (y1 - y0) / m.size };
  return {
    bbox: [x0 + bounds[0] * placement.sx, y0 + bounds[1] * placement.sy, x0 + bounds[2] * placement.sx, y0 + bounds[3] * placement.sy],
    rle: { width: m.size, height: m.size, origin: [x0, y0], runs: encodeRle(grid) },
    polygons: vectorizeMask(grid, placement),
    areaPx: maskArea(grid) * placement.sx * placement.sy,
  };
}

export function assertInside(r: AskInput['regions'][number], width: number, height: number): void {
  const pts: [number, number][] =
    r.kind === 'point' ? [[r.x, r.y]] : r.kind === 'box' ? [[r.x0, r.y0], [r.x1, r.y1]] : r.kind === 'circle' ? [[r.cx, r.cy]] : r.points;
  const inside = pts.some(([x, y]) => x >= 0 && y >= 0 && x <= width && y <= height);
  if (!inside) {
    throw new VantageError('BAD_INPUT', `the ${r.kind} region lies outside the image (${width}×${height} px); draw it on the image`);
  }
}
