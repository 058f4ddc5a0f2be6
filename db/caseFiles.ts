import { copyCase } from './caseCopy.js';
import type { Db } from './database.js';

/**
 * SQL of `.vantage` case files on the app's side (main/cases/caseFileService.ts): writing an export, and the ids an
 * import brings. A case file is a database of the app's own schema; the untrusted reading of one is
 * db/readCaseFile.ts, in its child process.
 */

/** Writes one case and its metadata (key → value in the file's settings table) into a fresh export database. */
export function writeCaseExport(from: Db, out: Db, sessionId: string, meta: Record<string, string>): void {
  out.transaction(() => {
    copyCase(from, out, sessionId, { newIds: false });
    const put = out.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(meta)) put.run(k, v);
  })();
}

/** Stores an embedded image's chunks (case_assets) in an export database. */
export function assetChunkWriter(out: Db): (sha256: string, chunk: number, bytes: Uint8Array) => void {
  const insert = out.prepare('INSERT OR IGNORE INTO case_assets (sha256, chunk, bytes) VALUES (?, ?, ?)');
  return (sha256, chunk, bytes) => void insert.run(sha256, chunk, bytes);
}

/** A single self-contained file: no -wal/-shm sidecars, readable from a read-only USB stick. */
export function sealCaseFile(out: Db): void {
  out.pragma('journal_mode = DELETE');
}

/** Every row id in a case database (sessions, images, turns, regions, masks, reports). */
export function allRowIds(db: Db): string[] {
  return db
    .prepare(`SELECT id FROM sessions UNION ALL SELECT id FROM images UNION ALL SELECT id FROM turns
      UNION ALL SELECT id FROM regions UNION ALL SELECT id FROM masks UNION ALL SELECT id FROM reports`)
    .pluck()
    .all() as string[];
}

/** How many of `ids` some row of `db` already has. */
export function idsTaken(db: Db, ids: string[]): number {
  const taken = db.prepare(`SELECT 1 FROM sessions WHERE id = @id UNION ALL SELECT 1 FROM images WHERE id = @id
      UNION ALL SELECT 1 FROM turns WHERE id = @id UNION ALL SELECT 1 FROM regions WHERE id = @id
      UNION ALL SELECT 1 FROM masks WHERE id = @id UNION ALL SELECT 1 FROM reports WHERE id = @id`);
  return ids.filter((id) => taken.get({ id }) !== undefined).length;
}
