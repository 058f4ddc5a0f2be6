import type { CaseRepository } from '../../db/repository.js';
import type { ChatEvent, RegionGeometry } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import type { ChatService } from '../chat/chatService.js';
import type { InferencePort } from '../inference/protocol.js';
import { regionToWgs84 } from '../analysis/regionWgs84.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import { bitemporalInstruction } from '../inference/chatPrompt.js';
import { readViewRgb, viewPixelsOf, type ReadRgb } from '../inference/viewResample.js';
import type { ModelService } from '../packs/modelService.js';
import { packProvenanceOf } from '../packs/packSignature.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import { dateFromName } from './changeAnalysis.js';
import { rectsOnB } from './pairViews.js';

export interface ChangeCaptionInput {
  sessionId: string;
  imageA: string;
  imageB: string;
  /** regions drawn on image A (pixels of A); the question names the first */
  regions: RegionGeometry[];
  text?: string | undefined;
  maxNewTokens?: number | undefined;
}

/** The stored question: both images (name, date, id) and the instruction, so the case records what was compared. */
export function changeCaptionQuestion(a: { name: string; date: string | null; id: string }, b: { name: string; date: string | null; id: string }, instruction: string): string {
  const side = (s: typeof a) => `${s.name} (${s.date ?? 'date unknown'}, image ${s.id})`;
  return `Change caption: ${side(a)} → ${side(b)}: ${instruction}`;
}

/**
 * "What changed here?": the pack's bitemporal mode (PACK_CONTRACT.md) on two images of a case. A's views are
 * planned as for a question on A; B's views are B's pixels for the same ground (A's rects mapped through the pair's
 * georeference), so both `<image>` blocks cover the same rects. Stored like a chat answer on image A (masks on A).
 */
export class ChangeCaptionService {
  constructor(
    private readonly repo: CaseRepository,
    private readonly sessions: SessionsService,
    private readonly imagery: ImageryPort,
    private readonly models: ModelService,
    private readonly host: InferencePort,
    private readonly chat: ChatService,
  ) {}

  async caption(input: ChangeCaptionInput, emit: (e: ChatEvent) => void, signal: AbortSignal): Promise<void> {
    if (input.imageA === input.imageB) throw new VantageError('BAD_INPUT', 'pick two different images to compare (A is the same as B)');
    const a = await this.sessions.imageOf(input.sessionId, input.imageA);
    const b = await this.sessions.imageOf(input.sessionId, input.imageB);
    await this.models.ensureReady();
    const pack = this.models.status().pack;
    const can = pack ? this.host.capabilities : null;
    if (!pack || !can?.chat) throw new VantageError('UNSUPPORTED', `the loaded model pack "${pack?.name ?? 'none'}" cannot caption (no decoder stage)`);
    if (!can.bitemporal) {
      throw new VantageError('UNSUPPORTED', `model pack "${pack.name}" has no bitemporal mode (modes: ${pack.modes.join(', ') || 'none'}); load a pack trained on image pairs to ask what changed`);
    }
    if (!this.host.sources.includes(a.info.source)) {
      throw new VantageError('UNSUPPORTED', `model pack "${pack.name}" does not take ${a.info.source} imagery; it takes ${this.host.sources.join(', ') || 'none'}`);
    }
    const rects = this.host.planViews(a.info.width, a.info.height, input.regions);
    // before anything is stored: a pair with no common ground under the views is refused without a failed turn
    const rectsB = await rectsOnB(a.row.path, b.row.path, rects, null);

    const text = input.text ?? '';
    const saved = this.repo.addQuestion({
      sessionId: input.sessionId,
      imageId: a.info.id,
      text: changeCaptionQuestion(
        { name: a.info.name, date: dateFromName(a.row.path), id: a.info.id },
        { name: b.info.name, date: dateFromName(b.row.path), id: b.info.id },
        bitemporalInstruction(text, input.regions.length),
      ),
      regions: input.regions.map((geometry) => ({ geometry, wgs84: a.info.georeferenced ? regionToWgs84(geometry, a.info) : null })),
    });
    emit({ type: 'saved', userTurn: saved.userTurn, regions: saved.regions, assistantTurnId: saved.assistantTurnId });

    const spec = viewPixelsOf(this.host);
    const readA: ReadRgb = (r, w, h) => this.imagery.readRgb(a.info.id, r, w, h);
    const readB: ReadRgb = (r, w, h) => this.imagery.readRgb(b.info.id, r, w, h);
    const views = await Promise.all(rects.map(async (rect) => ({ rect, rgb: await readViewRgb(readA, a.info.width, a.info.height, rect, spec) })));
    const viewsB = await Promise.all(rects.map(async (rect, i) => ({ rect, rgb: await readViewRgb(readB, b.info.width, b.info.height, rectsB[i]!, spec) })));
    await this.chat.streamAnswer(
      {
        views,
        viewsB,
        regions: input.regions,
        text,
        history: [],
        source: a.info.source,
        mode: 'bitemporal',
        maxNewTokens: input.maxNewTokens ?? 64,
        sampling: { temperature: 0, topP: 1, seed: 0 },
      },
      {
        assistantTurnId: saved.assistantTurnId,
        regionIds: saved.regions.map((r) => r.id),
        imageId: a.info.id,
        pack: packProvenanceOf(pack),
      },
      emit,
      signal,
    );
  }
}
