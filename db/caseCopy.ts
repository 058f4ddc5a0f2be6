import { randomUUID } from 'node:crypto';
import type { Db } from './database.js';

interface TablePlan {
  name: string;
  /** columns present in both databases (an older case file may lack newer columns) */
  columns: string[];
  /** column → referenced table */
  fks: Map<string, string>;
  hasTextId: boolean;
}

/** Tables that hold a case's rows: every table linked (directly or through another) to `sessions` by a foreign key. */
function plan(src: Db, dst: Db): TablePlan[] {
  const tablesOf = (db: Db) =>
    new Set((db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name));
  const dstTables = tablesOf(dst);
  const fkOf = (t: string) => new Map((src.pragma(`foreign_key_list("${t}")`) as { from: string; table: string }[]).map((f) => [f.from, f.table]));
  const all = [...tablesOf(src)].filter((t) => dstTables.has(t));
  const linked = new Set(['sessions']);
  // fixed point: a table joins once one of its foreign keys points at a linked table
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of all) {
      if (linked.has(t)) continue;
      if ([...fkOf(t).values()].some((ref) => linked.has(ref) && ref !== t)) {
        linked.add(t);
        changed = true;
      }
    }
  }
  // parents before children
  const ordered: string[] = [];
  const visit = (t: string, seen: Set<string>) => {
    if (ordered.includes(t) || seen.has(t)) return;
    seen.add(t);
    for (const ref of fkOf(t).values()) if (linked.has(ref) && ref !== t) visit(ref, seen);
    ordered.push(t);
  };
  for (const t of linked) visit(t, new Set());
  return ordered.map((name) => {
    const srcCols = src.pragma(`table_info("${name}")`) as { name: string; type: string; pk: number }[];
    const dstCols = new Set((dst.pragma(`table_info("${name}")`) as { name: string }[]).map((c) => c.name));
    return {
      name,
      columns: srcCols.map((c) => c.name).filter((c) => dstCols.has(c)),
      fks: fkOf(name),
      hasTextId: srcCols.some((c) => c.name === 'id' && c.pk === 1 && c.type.toUpperCase() === 'TEXT'),
    };
  });
}

export interface CopyOptions {
  /**
   * fresh ids for every row (duplicate, or import of a case already present), none (false), or for the rows whose
   * id the predicate picks (an import replaces the ids that are not well-formed)
   */
  newIds: boolean | ((id: unknown) => boolean);
  /** column overrides for the copied session row (e.g. a new name, timestamps, deleted_at) */
  session?: Record<string, unknown>;
}

/**
 * Copies one case — its session row and every row linked to it by foreign keys (images, turns, regions, masks,
 * reports and whatever later migrations add) — from `src` to `dst` (which may be the same database), remapping ids.
 * The caller provides the transaction. Returns the new session id and the old → new id map.
 */
export function copyCase(src: Db, dst: Db, sessionId: string, opts: CopyOptions): { sessionId: string; ids: Map<string, string> } {
  const ids = new Map<string, string>();
  const fresh = typeof opts.newIds === 'function' ? opts.newIds : () => opts.newIds === true;
  const mapId = (old: string) => {
    let id = ids.get(old);
    if (!id) ids.set(old, (id = fresh(old) ? randomUUID() : old));
    return id;
  };
  const picked = new Map<string, Set<string>>(); // table → ids of its rows in this case
  for (const t of plan(src, dst)) {
    let rows: Record<string, unknown>[];
    if (t.name === 'sessions') {
      rows = src.prepare('SELECT * FROM sessions WHERE id = ?').all(sessionId) as Record<string, unknown>[];
    } else {
      // a row belongs to the case when one of its foreign keys points at a row already picked
      const refs = [...t.fks].filter(([, ref]) => ref !== t.name && picked.has(ref));
      const where = refs.map(([col]) => `"${col}" IN (SELECT value FROM json_each(?))`).join(' OR ');
      rows = src.prepare(`SELECT * FROM "${t.name}" WHERE ${where} ORDER BY rowid`).all(
        ...refs.map(([, ref]) => JSON.stringify([...picked.get(ref)!])),
      ) as Record<string, unknown>[];
    }
    const insert = dst.prepare(`INSERT INTO "${t.name}" (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`);
    const mine = new Set<string>();
    picked.set(t.name, mine);
    // ids of this table first, so self-references and later tables resolve
    for (const r of rows) if (t.hasTextId) mine.add(r.id as string);
    for (const r of rows) {
      const values = t.columns.map((c) => {
        if (t.name === 'sessions' && opts.session && c in opts.session) return opts.session[c];
        const v = r[c];
        if (v == null) return v;
        if (c === 'id' && t.hasTextId) return mapId(v as string);
        const ref = t.fks.get(c);
        if (ref && picked.get(ref)?.has(v as string)) return mapId(v as string);
        return v;
      });
      insert.run(...values);
    }
  }
  return { sessionId: ids.get(sessionId) ?? sessionId, ids };
}
