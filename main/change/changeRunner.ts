import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { VantageError, type ErrorPayload } from '../contract/errors.js';
import { analyzeFiles, type AnalyzeOptions, type PairAnalysis } from './changeAnalysis.js';

export type ChangeJobResult = Pick<PairAnalysis, 'stats' | 'polygons' | 'mask' | 'dates'> & {
  /** where the analysis ran: 'worker' off the main event loop, 'in-process' when no worker bundle exists */
  ranIn?: 'worker' | 'in-process';
};

type WorkerReply = { ok: true; result: ChangeJobResult } | { ok: false; error: ErrorPayload };

/**
 * Runs a change analysis in a worker thread when the bundle (dist/main/changeWorker.mjs, or buildChangeWorker()'s
 * output) exists; otherwise in-process, so a source checkout without a build still works (slower UI meanwhile).
 */
export async function runChangeAnalysis(fileA: string, fileB: string, opts: AnalyzeOptions, workerFile: string | null): Promise<ChangeJobResult> {
  if (!workerFile || !existsSync(workerFile)) {
    const r = await analyzeFiles(fileA, fileB, opts);
    return { stats: r.stats, polygons: r.polygons, mask: r.mask, dates: r.dates, ranIn: 'in-process' };
  }
  const worker = new Worker(workerFile, { workerData: { fileA, fileB, opts }, stdout: false, stderr: false });
  try {
    const reply = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', (m: WorkerReply) => resolve(m));
      worker.once('error', (e) => reject(new VantageError('INTERNAL', `the change analysis worker failed: ${e.message}`)));
      worker.once('exit', (code) => reject(new VantageError('INTERNAL', `the change analysis worker stopped (exit code ${code}) before answering`)));
    });
    if (!reply.ok) throw VantageError.from(reply.error);
    return { ...reply.result, ranIn: 'worker' };
  } finally {
    void worker.terminate();
  }
}
