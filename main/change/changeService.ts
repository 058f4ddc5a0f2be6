import type { CaseRepository } from '../../db/repository.js';
import { encodeRle, maskBounds } from '../analysis/maskVectorizer.js';
import type { ChangeResult, TiePoint } from '../contract/calls/change.js';
import { VantageError } from '../contract/errors.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import type { ChangeDetector } from './changeAnalysis.js';
import { runChangeAnalysis } from './changeRunner.js';
import { changeAnswer, changeQuestion } from './changeRecord.js';

export interface ChangeInput {
  sessionId: string;
  imageA: string;
  imageB: string;
  tiePoints?: TiePoint[];
  minArea?: number;
  detector?: ChangeDetector;
}

/**
 * Change analysis between two images of a case. The result is kept in the case like a grounded answer: a user
 * turn naming both images and dates, an assistant turn with the figures, and one mask on image A holding every
 * change polygon, so it goes through the same vectors / measurements / export path as other masks.
 */
export class ChangeService {
  constructor(
    private readonly repo: CaseRepository,
    private readonly sessions: SessionsService,
    /** bundled worker (dist/main/changeWorker.mjs); null or missing on disk → the analysis runs in-process */
    private readonly workerFile: string | null = null,
  ) {}

  async analyze(input: ChangeInput): Promise<ChangeResult> {
    if (input.imageA === input.imageB) throw new VantageError('BAD_INPUT', 'pick two different images to compare (A is the same as B)');
    const a = await this.sessions.imageOf(input.sessionId, input.imageA);
    const b = await this.sessions.imageOf(input.sessionId, input.imageB);
    const t0 = performance.now();
    const r = await runChangeAnalysis(a.row.path, b.row.path, {
      tiePoints: input.tiePoints ?? null,
      ...(input.minArea !== undefined ? { minArea: input.minArea } : {}),
      ...(input.detector ? { detector: input.detector } : {}),
      sarScales: { a: storedSarScale(a.row.display), b: storedSarScale(b.row.display) },
    }, this.workerFile);
    const durationMs = performance.now() - t0;
    const s = r.stats;
    const [dateA, dateB] = r.dates;
    const question = changeQuestion({ name: a.info.name, date: dateA, imageId: a.info.id }, { name: b.info.name, date: dateB, imageId: b.info.id });
    const answer = changeAnswer(a.info.name, s);

    const saved = this.repo.addQuestion({ sessionId: input.sessionId, imageId: a.info.id, text: question, regions: [] });
    const [wx0, wy0, wx1, wy1] = s.overlap.window;
    const grid = { width: wx1 - wx0, height: wy1 - wy0, data: r.mask };
    const bounds = maskBounds(grid);
    const mask = bounds
      ? this.repo.addMask({
          turnId: saved.assistantTurnId,
          imageId: a.info.id,
          regionId: null,
          phrase: `change ${dateA ?? a.info.name} → ${dateB ?? b.info.name}`,
          score: 1,
          bbox: [wx0 + bounds[0], wy0 + bounds[1], wx0 + bounds[2], wy0 + bounds[3]],
          rle: { width: grid.width, height: grid.height, origin: [wx0, wy0], runs: encodeRle(grid) },
          polygons: r.polygons.map((p) => p.polygon),
          areaPx: s.changedPx,
        })
      : null;
    const turn = this.repo.finishTurn(saved.assistantTurnId, { text: answer, status: 'complete', durationMs, pack: null, provider: 'classical' });
    return {
      imageA: { imageId: a.info.id, name: a.info.name, date: dateA },
      imageB: { imageId: b.info.id, name: b.info.name, date: dateB },
      stats: s,
      polygons: r.polygons,
      maskId: mask?.id ?? null,
      turnId: turn.id,
      durationMs,
    };
  }
}

/** the SAR scale the analyst set for an image (kept with its look in the case), or null */
function storedSarScale(look: unknown): 'db' | 'linear' | 'amplitude' | null {
  const v = (look as { sarScale?: unknown } | null)?.sarScale;
  return v === 'db' || v === 'linear' || v === 'amplitude' ? v : null;
}
