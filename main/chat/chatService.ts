import type { ChatEvent, Turn } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import { assertInside } from '../contract/geometry.js';
import type { CaseRepository } from '../../db/repository.js';
import { storeModelMask } from '../masks/measure.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import type { ModelService } from '../packs/modelService.js';
import { packProvenanceOf } from '../packs/packSignature.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import type { AskRequest, InferencePort } from './inferencePort.js';
import { groundingViewOf, readViewRgb, viewPixelsOf, type ReadRgb } from '../inference/viewResample.js';
import { regionToWgs84 } from '../analysis/regionWgs84.js';
import { applyTaskTemplate, TASK_MODE_SPECS } from '../contract/taskModes.js';
import type { ParsedInputOf } from '../contract/procedures.js';

type Sampling = 'temperature' | 'topP' | 'seed';
/** chat.ask's input as the contract parses it (the sampling settings may be left to their defaults) */
export type AskInput = Omit<ParsedInputOf<'chat.ask'>, Sampling> & Partial<Pick<ParsedInputOf<'chat.ask'>, Sampling>>;

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
    if (!model.pack || !this.host.capabilities.chat) {
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

    const viewSpec = viewPixelsOf(this.host);
    const rects = this.host.planViews(info.width, info.height, input.regions);
    const read: ReadRgb = (r, w, h) => this.imagery.readRgb(info.id, r, w, h);
    // SAM packs (grounding.preprocess "sam", or a grounding stage of its own size): `<SEG>` masks and answer boxes run
    // SAM on its own input of the global rect, as LISA / GeoPixel feed SAM the image; read beside the views
    const G = this.host.groundingSize ?? viewSpec.size;
    const samInput = this.host.capabilities.masks && (this.host.instantPreprocess === 'sam' || G !== viewSpec.size);
    const [views, groundingView] = await Promise.all([
      Promise.all(rects.map(async (rect) => ({ rect, rgb: await readViewRgb(read, info.width, info.height, rect, viewSpec) }))),
      samInput ? groundingViewOf(read, info.width, info.height, rects[0]!, G, this.host.instantPreprocess ?? 'view') : undefined,
    ]);

    const pack = packProvenanceOf(model.pack);
    await this.streamAnswer(
      {
        views,
        ...(groundingView ? { groundingView } : {}),
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
            const mask = storeModelMask(this.repo, e.mask, { turnId: turn.assistantTurnId, imageId: turn.imageId, regionIds: turn.regionIds });
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
}
