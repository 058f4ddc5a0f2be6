import { parentPort, workerData } from 'node:worker_threads';
import { VantageError } from '../contract/errors.js';
import { analyzeFiles, type AnalyzeOptions } from './changeAnalysis.js';
import type { ChangeJobResult } from './changeRunner.js';

/**
 * Worker entry (bundled as dist/main/changeWorker.mjs): one change analysis per worker, so reading, resampling and
 * thresholding whole scenes (seconds of CPU) never block the main event loop that serves tiles and chat.
 */
const job = workerData as { fileA: string; fileB: string; opts: AnalyzeOptions };
const port = parentPort!;
try {
  const r = await analyzeFiles(job.fileA, job.fileB, job.opts);
  // resampledB (float32 bands) is for tests only: not worth copying back
  const out: ChangeJobResult = { stats: r.stats, polygons: r.polygons, mask: r.mask, dates: r.dates };
  port.postMessage({ ok: true, result: out });
} catch (err) {
  const e = err instanceof VantageError ? err.toPayload() : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
  port.postMessage({ ok: false, error: e });
}
