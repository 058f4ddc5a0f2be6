import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ErrorPayload, VantageError } from '../contract/errors.js';
import type { ReadJob, ReadResult } from '../../db/readCaseFile.js';

/** Time a case reader gets before it is killed: a base plus an allowance per byte (copying and hashing images). */
export const READ_DEADLINE_MS = 30_000;
const READ_BYTES_PER_MS = 50 * 1024; // 50 MB/s: a slow USB stick
/** The reader's V8 heap; SQLite's own memory is capped inside it (readCaseFile). */
const READER_HEAP_MB = 256;

const ReadReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    result: z.object({
      sessionId: z.string(),
      originalSessionId: z.string(),
      schemaVersion: z.number().int(),
      replacedIds: z.record(z.string(), z.string()),
      assets: z.array(z.string()),
      warnings: z.array(z.string()),
      peakRssKb: z.number(),
    }),
  }),
  z.object({ ok: z.literal(false), error: ErrorPayload }),
]);

export function readDeadlineMs(bytes: number, baseMs = READ_DEADLINE_MS): number {
  return Math.round(baseMs + bytes / READ_BYTES_PER_MS);
}

/**
 * Runs `script` (the bundled caseFileReader.ts) on one job in a child process and returns its result; past
 * `deadlineMs` the child is SIGKILLed and the import refused with one line. The main event loop only waits.
 */
export function runCaseReader(script: string, job: ReadJob, deadlineMs: number): Promise<ReadResult> {
  if (!existsSync(script)) {
    return Promise.reject(new VantageError('UNSUPPORTED', `importing case files needs the case reader (${script}), which is missing: run npm run build`));
  }
  const nothing = 'nothing was imported';
  return new Promise<ReadResult>((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: [`--max-old-space-size=${READER_HEAP_MB}`],
      // in Electron, process.execPath is the app: run it as plain Node for the reader
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < 4096) stderr += c;
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fn();
    };
    const timer = setTimeout(() => {
      const seconds = deadlineMs >= 10_000 ? Math.round(deadlineMs / 1000) : Math.max(0.1, Math.round(deadlineMs / 100) / 10);
      finish(() => reject(new VantageError('BAD_INPUT', `${job.label}: reading it took longer than ${seconds} s; it may be damaged or hostile; ${nothing}`)));
    }, deadlineMs);
    child.once('message', (m: unknown) => {
      const reply = ReadReply.safeParse(m);
      finish(() => {
        if (!reply.success) reject(new VantageError('INTERNAL', `${job.label}: the case reader answered outside its protocol; ${nothing}`));
        else if (reply.data.ok) resolve(reply.data.result);
        else if (reply.data.error.code === 'INTERNAL') reject(new VantageError('BAD_INPUT', `${job.label} could not be read (${reply.data.error.message}); ${nothing}`));
        else reject(VantageError.from(reply.data.error));
      });
    });
    child.once('error', (err) => finish(() => reject(new VantageError('INTERNAL', `${job.label}: the case reader could not start (${err.message}); ${nothing}`))));
    // 'close', not 'exit': it comes after the IPC channel is drained, so a reply sent just before exiting is seen first
    child.once('close', (code, signal) => {
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      const detail = stderr.includes('heap out of memory') ? ' (out of memory)' : '';
      finish(() => reject(new VantageError('BAD_INPUT', `${job.label}: the case reader stopped (${why})${detail} before finishing; the file may be damaged or hostile; ${nothing}`)));
    });
    child.send(job);
  });
}
