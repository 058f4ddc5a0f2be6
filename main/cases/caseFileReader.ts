import { VantageError } from '../contract/errors.js';
import { readCaseFile, type ReadJob } from '../../db/readCaseFile.js';

/**
 * Child process entry (bundled as dist/main/caseReader.mjs): reads one untrusted case file and answers once over
 * the IPC channel. It is a process, not a worker thread, so the main process can kill it at a deadline even while
 * SQLite is inside a query (better-sqlite3 cannot interrupt one, and a Worker cannot be terminated mid-query).
 */
if (!process.send) {
  process.stderr.write('caseReader must be started by Vantage (child process with an IPC channel)\n');
  process.exit(2);
}
const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, undefined, undefined, () => resolve()));

process.once('message', (job: ReadJob) => {
  let reply: unknown;
  try {
    reply = { ok: true, result: readCaseFile(job) };
  } catch (err) {
    reply = { ok: false, error: VantageError.from(err).toPayload() };
  }
  void send(reply).then(() => process.exit(0));
});
