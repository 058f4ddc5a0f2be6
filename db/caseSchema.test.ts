import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadMigrations } from './database.js';
import { safeFileName } from './caseFormat.js';
import { ROW_CHECKS } from './caseRows.js';
import { schemaDifference } from './caseSchema.js';

const migrations = loadMigrations();
const latest = migrations.at(-1)!.version;

/** A database as migrations 1..version leave it (what Vantage of that version writes). */
function atVersion(version: number): Database.Database {
  const db = new Database(':memory:');
  for (const m of migrations) if (m.version <= version) db.exec(m.sql);
  return db;
}

describe('case file schema', () => {
  it('accepts each shipped schema version as exactly itself and no other', () => {
    for (let v = 1; v <= latest; v++) {
      const db = atVersion(v);
      for (let w = 1; w <= latest; w++) expect(schemaDifference(db, migrations, w) === null, `schema ${v} read as ${w}`).toBe(v === w);
      db.close();
    }
  });

  it('refuses views, triggers, changed columns and extra indexes', () => {
    const edits: [string, RegExp][] = [
      ['DROP TABLE settings; CREATE VIEW settings AS SELECT 1 AS key, 2 AS value', /holds a view \("settings"\)/],
      ['CREATE TRIGGER t AFTER INSERT ON turns BEGIN SELECT 1; END', /holds a trigger \("t"\)/],
      ['DROP TABLE settings; CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL)', /table "settings" differs/],
      ['DROP TABLE settings; CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID', /lacks the index "sqlite_autoindex_settings_1"/],
      ['ALTER TABLE turns ADD COLUMN x TEXT', /table "turns" differs/],
      ['CREATE INDEX extra ON turns(text)', /holds an index "extra"/],
      ['DROP INDEX masks_turn; CREATE INDEX masks_turn ON masks(image_id)', /index "masks_turn" differs/],
    ];
    for (const [sql, why] of edits) {
      const db = atVersion(latest);
      db.exec(sql);
      expect(schemaDifference(db, migrations, latest), sql).toMatch(why);
      db.close();
    }
  });

  it('has a row check for every column of every case table of the latest schema', () => {
    const db = atVersion(latest);
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('settings', 'case_assets')").pluck().all() as string[]).sort();
    expect(tables).toEqual(Object.keys(ROW_CHECKS).sort());
    for (const t of tables) {
      const cols = (db.pragma(`table_info("${t}")`) as { name: string }[]).map((c) => c.name).sort();
      expect(Object.keys(ROW_CHECKS[t]!).sort(), t).toEqual(cols);
    }
    db.close();
  });
});

describe('safeFileName', () => {
  it('keeps the last path component only, without anything a file system or shell could misread', () => {
    expect(safeFileName('../../../.config/autostart/evil.desktop')).toBe('evil.desktop');
    expect(safeFileName('..\\..\\x.tif')).toBe('x.tif');
    expect(safeFileName('/data/port.tif')).toBe('port.tif');
    expect(safeFileName('..')).toBe('case');
    expect(safeFileName('.hidden')).toBe('hidden');
    expect(safeFileName('a\u0000b:c*?.tif')).toBe('a_b_c__.tif');
    expect(safeFileName('NUL.txt')).toBe('_NUL.txt');
    expect(safeFileName('', 'image')).toBe('image');
    const long = safeFileName(`${'é'.repeat(500)}.tif`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(120);
    expect(long.endsWith('.tif')).toBe(true);
  });
});
