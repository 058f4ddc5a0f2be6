import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { CaseRepository } from './repository.js';
import { bundleWriter, exited, startWriter, track, type WriterLog } from './testing/writerProcess.js';

// ≥ 50 kills in CI; `npm run bench:durability` raises it (VANTAGE_DURABILITY_RUNS=200).
const RUNS = Number(process.env.VANTAGE_DURABILITY_RUNS ?? 50);

let writer: { script: string; dispose(): void };
let dir: string;
beforeAll(async () => {
  writer = await bundleWriter();
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-durability-'));
});
afterAll(() => {
  writer?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Everything the writer acknowledged is on disk, and nothing is half-written. */
function checkAcknowledged(file: string, logs: WriterLog[]): { turns: number; masks: number } {
  const raw = new Database(file);
  try {
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    const has = (table: string, id: string) => raw.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) !== undefined;
    const status = (id: string) => (raw.prepare('SELECT status FROM turns WHERE id = ?').get(id) as { status: string } | undefined)?.status;
    let turns = 0;
    let masks = 0;
    for (const log of logs) {
      for (const [i, id] of log.turns.entries()) {
        expect(has('turns', id), `acknowledged user turn ${id} missing`).toBe(true);
        expect(has('turns', log.assistantTurns[i]!), `assistant turn of ${id} missing`).toBe(true);
        turns += 2;
      }
      for (const id of log.masks) expect(has('masks', id), `acknowledged mask ${id} missing`).toBe(true);
      masks += log.masks.length;
      for (const id of log.done) expect(status(id), `finished turn ${id} lost its answer`).toBe('complete');
    }
    return { turns, masks };
  } finally {
    raw.close();
  }
}

describe('durability under SIGKILL', () => {
  it(`keeps every acknowledged turn and mask through ${RUNS} kills at random moments`, async () => {
    const file = path.join(dir, 'killed.db');
    const logs: WriterLog[] = [];
    const t0 = performance.now();
    for (let run = 0; run < RUNS; run++) {
      const child = startWriter(writer.script, file, `run${run}`);
      const t = track(child);
      // Kill after a random number of acknowledged writes plus a random sub-millisecond-to-8 ms delay, so the
      // kill lands anywhere: inside a transaction, between commit and acknowledgement, during a WAL checkpoint.
      const target = Math.floor(Math.random() * 60);
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        const kill = () => {
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, Math.random() * 8);
        };
        t.onLine(() => {
          if (++seen === target + 1) kill();
        });
        child.once('close', (code) => (seen > target ? resolve() : reject(new Error(`writer exited (${code}) before the kill: ${t.stderr()}`))));
      });
      const { signal } = await exited(child);
      expect(signal, t.stderr()).toBe('SIGKILL');
      logs.push(t.log);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const { turns, masks } = checkAcknowledged(file, logs);
    expect(turns).toBeGreaterThan(RUNS);
    // The app reopens the database after the kills: interrupted answers are marked failed, nothing else changes.
    const db = openDatabase(file);
    const repo = new CaseRepository(db);
    repo.recoverInterrupted();
    expect(db.prepare("SELECT count(*) AS n FROM turns WHERE status = 'streaming'").get()).toEqual({ n: 0 });
    db.close();
    console.log(`durability: ${RUNS} SIGKILLs, ${turns} acknowledged turns and ${masks} masks all present, integrity ok (${elapsed.toFixed(1)} s)`);
  });

  it('two processes writing the same database at once do not corrupt it or lose acknowledged writes', async () => {
    const file = path.join(dir, 'shared.db');
    openDatabase(file).close();
    const a = startWriter(writer.script, file, 'A', 150);
    const b = startWriter(writer.script, file, 'B', 150);
    const ta = track(a);
    const tb = track(b);
    const [ea, eb] = await Promise.all([exited(a), exited(b)]);
    expect(ea.code, ta.stderr()).toBe(0);
    expect(eb.code, tb.stderr()).toBe(0);
    expect(ta.log.done).toHaveLength(150);
    expect(tb.log.done).toHaveLength(150);
    checkAcknowledged(file, [ta.log, tb.log]);
  });
});
