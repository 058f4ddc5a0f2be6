import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { VantageError } from '../contract/errors.js';
import { processAlive } from '../util/processAlive.js';

export const LOCK_FILE = 'vantage.lock';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}


function read(file: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' ? { pid: info.pid, host: String(info.host ?? ''), startedAt: String(info.startedAt ?? '') } : null;
  } catch {
    return null; // unreadable or half-written by a killed process: stale
  }
}

/**
 * One running app per data folder: a lock file holding the owner's pid, created exclusively (O_EXCL). A lock whose
 * pid is dead (crash, SIGKILL, reboot) is stale and taken over. One-shot CLI commands do not take it — SQLite's WAL
 * lets them share the database with the running app safely (db/durability.int.test.ts, two writers).
 */
export class InstanceLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): InstanceLock {
    const file = path.join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        try {
          writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() } satisfies LockInfo));
        } finally {
          closeSync(fd);
        }
        return new InstanceLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = read(file);
      // another host (data folder on a network share): its pid means nothing here, so only the same host is judged
      if (owner && owner.pid !== process.pid && (owner.host !== hostname() || processAlive(owner.pid))) {
        throw new VantageError(
          'CONFLICT',
          `Vantage is already running on this data folder (${dataDir}, process ${owner.pid}${owner.host !== hostname() ? ` on ${owner.host}` : ''}, ` +
            `since ${owner.startedAt}). Switch to that window, or close it first. If it is not running, delete ${file}.`,
        );
      }
      rmSync(file, { force: true }); // stale: its owner is gone
    }
    throw new VantageError('CONFLICT', `could not take the lock ${file}: another Vantage is starting on the same data folder`);
  }

  release(): void {
    const owner = read(this.file);
    if (owner?.pid === process.pid) rmSync(this.file, { force: true });
  }
}
