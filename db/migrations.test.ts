import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations, openDatabase } from './database.js';
import { CaseRepository } from './repository.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'vantage-mig-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('schema upgrade', () => {
  it('upgrades a schema-001 database with data by opening it, keeping every row', () => {
    const f = path.join(dir, 'old.db');
    const all = loadMigrations();
    openDatabase(f, { migrations: all.filter((m) => m.version === 1) }).close();
    // data written the way version 001 of the app wrote it (raw SQL: today's repository expects newer columns)
    const raw = new Database(f);
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    raw.exec(`
      INSERT INTO sessions (id, name, created_at, updated_at, view_json) VALUES ('s1', 'Harbour', '2025-01-02T03:04:05Z', '2025-01-02T03:04:05Z', '{"lat":1,"lng":2,"zoom":3}');
      INSERT INTO images (id, session_id, path, sha256, size_bytes, facts_json, position, created_at) VALUES ('i1', 's1', '/data/harbour.tif', 'abc', 10, '{"width":4}', 0, '2025-01-02T03:04:05Z');
      INSERT INTO turns (id, session_id, image_id, seq, role, text, status, created_at) VALUES ('t1', 's1', 'i1', 1, 'user', 'ships?', 'complete', '2025-01-02T03:04:05Z');
      INSERT INTO regions (id, turn_id, image_id, kind, label, geometry_json) VALUES ('r1', 't1', 'i1', 'point', 'region1', '{"kind":"point","x":1,"y":2}');
      INSERT INTO masks (id, turn_id, image_id, region_id, score, bbox_json, rle_json, polygons_json, area_px, created_at) VALUES ('m1', 't1', 'i1', 'r1', 0.5, '[0,0,1,1]', '{"width":1,"height":1,"origin":[0,0],"runs":[0,1]}', '[]', 1, '2025-01-02T03:04:05Z');
    `);
    raw.close();

    const db = openDatabase(f);
    expect(db.pragma('user_version', { simple: true })).toBe(all.at(-1)!.version);
    const cols = (db.pragma('table_info(sessions)') as { name: string }[]).map((c) => c.name);
    expect(cols).toContain('deleted_at');
    const repo = new CaseRepository(db);
    expect(repo.listSessions().map((s) => [s.id, s.name, s.imageCount, s.turnCount])).toEqual([['s1', 'Harbour', 1, 1]]);
    expect(repo.getView('s1')).toEqual({ lat: 1, lng: 2, zoom: 3 });
    expect(repo.listImages('s1')[0]).toMatchObject({ path: '/data/harbour.tif', sha256: 'abc' });
    expect(repo.listRegions('s1')).toHaveLength(1);
    expect(repo.listMasks('s1')).toHaveLength(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
