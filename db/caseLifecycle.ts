import type { SessionSummary } from '../main/contract/index.js';
import { VantageError } from '../main/contract/errors.js';
import { copyCase } from './caseCopy.js';
import type { Db } from './database.js';

/** settings key prefix of an imported case's provenance (`case.importedFrom.<case id>` → ImportProvenance JSON) */
const IMPORTED_FROM = 'case.importedFrom.';

/** Where an imported case came from, and the ids the file had where the import gave fresh ones. */
export interface ImportProvenance {
  /** the case file's name */
  file: string;
  importedAt: string;
  schemaVersion: number;
  /** the session id the file named (shortened when malformed) */
  originalSessionId: string;
  /** id in this database → the id in the file, for every id the import replaced */
  originalIds: Record<string, string>;
}

/** Deleted cases are kept this long for undo, then purged at start-up. */
export const PURGE_AFTER_DAYS = 30;

const SUMMARY = `SELECT s.id, s.name, s.created_at, s.updated_at, s.deleted_at,
  (SELECT count(*) FROM images i WHERE i.session_id = s.id) AS image_count,
  (SELECT count(*) FROM turns t WHERE t.session_id = s.id) AS turn_count
  FROM sessions s`;

interface Row { id: string; name: string; created_at: string; updated_at: string; deleted_at: string | null; image_count: number; turn_count: number }

const toSummary = (r: Row): SessionSummary => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  imageCount: r.image_count,
  turnCount: r.turn_count,
});

/** LIKE pattern for a user's text, with LIKE's own wildcards taken literally. */
const like = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Case lifecycle on the case database (schema 002): rename, duplicate, soft delete + restore, purge, search, relink. */
export class CaseLifecycleRepository {
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      get: db.prepare(`${SUMMARY} WHERE s.id = ?`),
      rename: db.prepare('UPDATE sessions SET name = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL'),
      softDelete: db.prepare('UPDATE sessions SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      restore: db.prepare('UPDATE sessions SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL'),
      purgeOne: db.prepare('DELETE FROM sessions WHERE id = ? AND deleted_at IS NOT NULL'),
      purgeBefore: db.prepare('DELETE FROM sessions WHERE deleted_at IS NOT NULL AND deleted_at < ?'),
      // objects (masks) deleted inside a live case follow the same rule
      purgeMasksBefore: db.prepare('DELETE FROM masks WHERE deleted_at IS NOT NULL AND deleted_at < ?'),
      listDeleted: db.prepare(`${SUMMARY} WHERE s.deleted_at IS NOT NULL ORDER BY s.deleted_at DESC`),
      search: db.prepare(`${SUMMARY} WHERE s.deleted_at IS NULL AND (
          s.name LIKE @q ESCAPE '\\' OR s.created_at LIKE @date OR s.updated_at LIKE @date
          OR EXISTS (SELECT 1 FROM images i WHERE i.session_id = s.id AND i.path LIKE @q ESCAPE '\\')
          OR EXISTS (SELECT 1 FROM turns t WHERE t.session_id = s.id AND t.text LIKE @q ESCAPE '\\'))
        ORDER BY s.updated_at DESC`),
      relink: db.prepare('UPDATE images SET relinked_from = path, path = ? WHERE id = ?'),
      setProvenance: db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)'),
      getProvenance: db.prepare('SELECT value FROM settings WHERE key = ?'),
      // provenance of cases that are gone (purged): the settings table has no foreign key to cascade from
      dropOrphanProvenance: db.prepare(`DELETE FROM settings WHERE key LIKE '${IMPORTED_FROM}%'
        AND substr(key, ${IMPORTED_FROM.length + 1}) NOT IN (SELECT id FROM sessions)`),
    } as const;
  }

  private row(id: string): Row {
    const r = this.s.get.get(id) as Row | undefined;
    if (!r) throw new VantageError('NOT_FOUND', `no case with id ${id}`);
    return r;
  }

  /** The case, refusing a deleted one (restore it first). */
  live(id: string): SessionSummary {
    const r = this.row(id);
    if (r.deleted_at) throw new VantageError('NOT_FOUND', `case "${r.name}" was deleted; restore it to open or change it`);
    return toSummary(r);
  }

  rename(id: string, name: string): SessionSummary {
    this.live(id);
    this.s.rename.run(name, new Date().toISOString(), id);
    return this.live(id);
  }

  /** A deep copy — images, turns, regions, masks, reports — under fresh ids; the copy is a new, independent case. */
  duplicate(id: string, name: string): SessionSummary {
    this.live(id);
    const t = new Date().toISOString();
    const copy = this.db
      .transaction(() => copyCase(this.db, this.db, id, { newIds: true, session: { name, created_at: t, updated_at: t, deleted_at: null } }))
      .immediate();
    return this.live(copy.sessionId);
  }

  /** Soft delete: hidden from lists, every row kept until restore or purge. Returns when it will be purged. */
  softDelete(id: string): { purgeAfter: string } {
    this.live(id);
    const t = new Date();
    this.s.softDelete.run(t.toISOString(), id);
    return { purgeAfter: new Date(t.getTime() + PURGE_AFTER_DAYS * 86_400_000).toISOString() };
  }

  restore(id: string): SessionSummary {
    const r = this.row(id);
    if (!r.deleted_at) return toSummary(r);
    this.s.restore.run(id);
    return this.live(id);
  }

  /** Removes deleted cases for good: one (which must be deleted first) or all deleted before `before` (and the objects deleted before it). */
  purge(opts: { sessionId: string } | { before: Date }): number {
    let purge: () => number;
    if ('sessionId' in opts) {
      const r = this.row(opts.sessionId);
      if (!r.deleted_at) throw new VantageError('CONFLICT', `case "${r.name}" is not deleted; delete it before purging it`);
      purge = () => this.s.purgeOne.run(opts.sessionId).changes;
    } else {
      purge = () => {
        this.s.purgeMasksBefore.run(opts.before.toISOString());
        return this.s.purgeBefore.run(opts.before.toISOString()).changes;
      };
    }
    return this.db.transaction(() => {
      const n = purge();
      this.s.dropOrphanProvenance.run();
      return n;
    })();
  }

  /** Deleted cases, most recently deleted first, with the date each is purged at start-up (PURGE_AFTER_DAYS on). */
  listDeleted(): (SessionSummary & { deletedAt: string; purgeAfter: string })[] {
    return (this.s.listDeleted.all() as Row[]).map((r) => ({
      ...toSummary(r),
      deletedAt: r.deleted_at!,
      purgeAfter: new Date(Date.parse(r.deleted_at!) + PURGE_AFTER_DAYS * 86_400_000).toISOString(),
    }));
  }

  /** Cases whose name, image file name/path or any turn's text contains `query`, or whose date starts with it. */
  search(query: string): SessionSummary[] {
    const q = query.trim();
    // a date prefix such as 2026, 2026-11 or 2026-11-23 matches the day a case was created or last changed
    const date = /^\d{4}(-\d{1,2}){0,2}$/.test(q) ? `${q}%` : null;
    return (this.s.search.all({ q: like(q), date }) as Row[]).map(toSummary);
  }

  relinkImage(imageId: string, newPath: string): void {
    this.s.relink.run(newPath, imageId);
  }

  recordImport(sessionId: string, p: ImportProvenance): void {
    this.s.setProvenance.run(IMPORTED_FROM + sessionId, JSON.stringify(p));
  }

  /** Where an imported case came from; null for a case made here. */
  importProvenance(sessionId: string): ImportProvenance | null {
    const row = this.s.getProvenance.get(IMPORTED_FROM + sessionId) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as ImportProvenance) : null;
  }
}
