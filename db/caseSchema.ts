import Database from 'better-sqlite3';
import type { Db, Migration } from './database.js';

/** One schema object (table or index) as SQLite reports its structure, comparable across files. */
interface ObjectShape {
  type: string;
  name: string;
  table: string;
  /** everything SQLite's pragmas say about it, serialised in a fixed order */
  detail: string;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Views and triggers first (the most telling refusal), then tables, then indexes. */
const RANK: Record<string, number> = { view: 0, trigger: 1, table: 2, index: 3 };

function objects(db: Db): { type: string; name: string; tbl_name: string; sql: string | null }[] {
  const rows = db.prepare('SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY name').all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
  }[];
  return rows.sort((x, y) => (RANK[x.type] ?? -1) - (RANK[y.type] ?? -1));
}

/** Structure of one table or index from SQLite's pragmas (columns, keys, indexes, rowid, strictness). */
function detailOf(db: Db, o: { type: string; name: string; tbl_name: string; sql: string | null }): string {
  if (o.type === 'table') {
    return JSON.stringify({
      virtual: /^\s*create\s+virtual\s/i.test(o.sql ?? ''),
      list: db.pragma(`table_list(${q(o.name)})`),
      columns: db.pragma(`table_xinfo(${q(o.name)})`),
      fks: db.pragma(`foreign_key_list(${q(o.name)})`),
      indexes: (db.pragma(`index_list(${q(o.name)})`) as { name: string }[]).sort((a, b) => a.name.localeCompare(b.name)),
    });
  }
  return JSON.stringify({ columns: db.pragma(`index_xinfo(${q(o.name)})`) });
}

const references = new Map<number, Map<string, ObjectShape>>();

/** What migrations 1..version produce, built once per version in an in-memory database. */
export function referenceSchema(migrations: Migration[], version: number): Map<string, ObjectShape> {
  const cached = references.get(version);
  if (cached) return cached;
  const db = new Database(':memory:');
  try {
    for (const m of migrations) if (m.version <= version) db.exec(m.sql);
    const shapes = new Map(objects(db).map((o) => [`${o.type} ${o.name}`, { type: o.type, name: o.name, table: o.tbl_name, detail: detailOf(db, o) }]));
    references.set(version, shapes);
    return shapes;
  } finally {
    db.close();
  }
}

/**
 * Why `db` is not exactly the schema migrations 1..version produce (same tables with the same columns, keys and
 * indexes; no views, no triggers, no virtual or extra tables), or null when it is. Pragmas run on a table only once
 * its name is known to be one of ours, and nothing in the file is ever queried through its own schema here.
 */
export function schemaDifference(db: Db, migrations: Migration[], version: number): string | null {
  const want = referenceSchema(migrations, version);
  const have = objects(db);
  for (const o of have) {
    if (o.type === 'view' || o.type === 'trigger') return `it holds a ${o.type} (${short(o.name)}); case files have none`;
    if (!want.has(`${o.type} ${o.name}`)) return `it holds ${o.type === 'index' ? 'an index' : `a ${o.type}`} ${short(o.name)} that schema ${version} does not have`;
  }
  const names = new Set(have.map((o) => `${o.type} ${o.name}`));
  for (const [key, o] of want) {
    if (!names.has(key)) return `it lacks the ${o.type} ${short(o.name)} of schema ${version}`;
  }
  // same objects by name: now compare their structure, tables first (an index's shape depends on its table)
  for (const type of ['table', 'index']) {
    for (const o of have.filter((s) => s.type === type)) {
      const ref = want.get(`${o.type} ${o.name}`)!;
      if (o.tbl_name !== ref.table || detailOf(db, o) !== ref.detail) return `its ${o.type} ${short(o.name)} differs from schema ${version} (columns, keys or indexes)`;
    }
  }
  return null;
}

function short(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 39)}…` : name);
}
