import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OBJECT_COLOURS } from '../main/contract/objectStyle.js';
import { CaseLifecycleRepository } from './caseLifecycle.js';
import { loadMigrations, openDatabase, type Db } from './database.js';
import { CaseRepository, fillMissingColours } from './repository.js';

// Objects the analyst manages, in the case database: colours kept from creation, names, soft delete and undo.
let dir: string;
let db: Db;
let repo: CaseRepository;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-objects-'));
  db = openDatabase(path.join(dir, 'case.db'));
  repo = new CaseRepository(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const raster = { bbox: [1, 2, 3, 4] as [number, number, number, number], rle: { width: 2, height: 2, origin: [1, 2] as [number, number], runs: [0, 4] }, polygons: [[[[1, 2], [3, 2], [3, 4], [1, 4], [1, 2]]]] as [number, number][][][], areaPx: 4 };

function answer(sessionId: string, imageId: string, question: string, phrases: (string | null)[]) {
  const q = repo.addQuestion({ sessionId, imageId, text: question, regions: [] });
  const masks = phrases.map((phrase) => repo.addMask({ turnId: q.assistantTurnId, imageId, regionId: null, phrase, score: 0.9, ...raster }));
  repo.finishTurn(q.assistantTurnId, { text: phrases.map(() => '<SEG>').join(' '), status: 'complete', durationMs: 1, pack: null, provider: 'cpu' });
  return masks;
}

function newCase(name = 'Harbour') {
  const s = repo.createSession(name);
  const img = repo.addImage(s.id, { path: '/data/h.tif', sha256: `sha-${name}`, sizeBytes: 1, facts: { width: 10, height: 10 } });
  return { sid: s.id, iid: img.id };
}

describe('objects of a case', () => {
  it('colours each new mask once, when stored: a new mask never repaints an older one, a deleted one frees its colour', () => {
    const { sid, iid } = newCase();
    const [a, b] = answer(sid, iid, 'the pier and the ship', ['pier', 'ship']);
    expect([a!.colour, b!.colour]).toEqual([OBJECT_COLOURS[0], OBJECT_COLOURS[1]]);
    const [c] = answer(sid, iid, 'the crane', [null]);
    expect(c!.colour).toBe(OBJECT_COLOURS[2]);
    // stored: the list reads what was stored, in the case's order
    expect(repo.listMasks(sid).map((m) => m.colour)).toEqual([OBJECT_COLOURS[0], OBJECT_COLOURS[1], OBJECT_COLOURS[2]]);
    repo.deleteMask(a!.id);
    // the others keep theirs (before, colours followed the place in the list: b would have turned orange)
    expect(repo.listMasks(sid).map((m) => [m.id, m.colour])).toEqual([[b!.id, OBJECT_COLOURS[1]], [c!.id, OBJECT_COLOURS[2]]]);
    const [d] = answer(sid, iid, 'the tug', ['tug']);
    expect(d!.colour).toBe(OBJECT_COLOURS[0]);
    // another case starts with the first colour again
    const other = newCase('Other');
    expect(answer(other.sid, other.iid, 'x', ['x'])[0]!.colour).toBe(OBJECT_COLOURS[0]);
  });

  it('numbers the masks of an answer in the order they were made (the answer’s n-th <SEG>), deleted ones counted', () => {
    const { sid, iid } = newCase();
    const [a, b, c] = answer(sid, iid, 'three ships', [null, null, null]);
    expect([a!.ordinal, b!.ordinal, c!.ordinal]).toEqual([0, 1, 2]);
    repo.deleteMask(b!.id);
    expect(repo.listMasks(sid).map((m) => m.ordinal)).toEqual([0, 2]);
    expect(repo.listMaskRecords(sid).map((m) => m.ordinal)).toEqual([0, 2]);
  });

  it('deletes softly (gone from the case’s lists and the records exports read) and restores exactly', () => {
    const { sid, iid } = newCase();
    const [a, b] = answer(sid, iid, 'two ships', ['ship', 'ship']);
    repo.updateMask(a!.id, { label: 'Tanker', colour: '#123456' });
    const before = repo.listMasks(sid);
    repo.deleteMask(a!.id);
    expect(repo.listMasks(sid).map((m) => m.id)).toEqual([b!.id]);
    expect(repo.listMaskRecords(sid).map((m) => m.id)).toEqual([b!.id]);
    expect(repo.getMask(a!.id).deleted).toBe(true);
    // measuring an imported case's rasters again still reaches it
    expect(repo.listMaskRecords(sid, { withDeleted: true }).map((m) => m.id)).toEqual([a!.id, b!.id]);
    repo.restoreMask(a!.id);
    expect(repo.listMasks(sid)).toEqual(before);
    expect(repo.listMasks(sid)[0]).toMatchObject({ label: 'Tanker', colour: '#123456', phrase: 'ship' });
  });

  it('keeps the analyst’s name and colour; null gives the derived name back', () => {
    const { sid, iid } = newCase();
    const [a] = answer(sid, iid, 'q', ['ship']);
    expect(repo.updateMask(a!.id, { label: 'Tanker' })).toMatchObject({ label: 'Tanker', colour: OBJECT_COLOURS[0] });
    expect(repo.updateMask(a!.id, { colour: '#abcdef' })).toMatchObject({ label: 'Tanker', colour: '#abcdef' });
    expect(repo.updateMask(a!.id, { label: null }).label).toBeNull();
    expect(() => repo.updateMask('nope', { label: 'x' })).toThrow(/no object/);
  });

  it('purges objects deleted more than the purge age ago with the deleted cases, not newer ones', () => {
    const { sid, iid } = newCase();
    const [a, b, c] = answer(sid, iid, 'q', ['a', 'b', 'c']);
    repo.deleteMask(a!.id);
    repo.deleteMask(b!.id);
    db.prepare('UPDATE masks SET deleted_at = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', a!.id);
    new CaseLifecycleRepository(db).purge({ before: new Date('2021-01-01T00:00:00Z') });
    expect(() => repo.getMask(a!.id)).toThrow(/no object/);
    expect(repo.getMask(b!.id).deleted).toBe(true);
    expect(repo.listMasks(sid).map((m) => m.id)).toEqual([c!.id]);
  });
});

describe('masks stored before colours were kept', () => {
  const insert = (raw: Database.Database) =>
    raw.exec(`
      INSERT INTO sessions (id, name, created_at, updated_at) VALUES ('s1', 'A', 't', 't'), ('s2', 'B', 't', 't');
      INSERT INTO images (id, session_id, path, sha256, size_bytes, facts_json, position, created_at) VALUES ('i1', 's1', '/a.tif', 'a', 1, '{}', 0, 't'), ('i2', 's2', '/b.tif', 'b', 1, '{}', 0, 't');
      INSERT INTO turns (id, session_id, image_id, seq, role, text, status, created_at) VALUES
        ('t2', 's1', 'i1', 2, 'assistant', '', 'complete', 't'), ('t4', 's1', 'i1', 4, 'assistant', '', 'complete', 't'), ('u2', 's2', 'i2', 2, 'assistant', '', 'complete', 't');
      INSERT INTO masks (id, turn_id, image_id, score, bbox_json, rle_json, polygons_json, area_px, created_at) VALUES
        ('m3', 't4', 'i1', 1, '[0,0,1,1]', '{}', '[]', 1, 't'), ('m1', 't2', 'i1', 1, '[0,0,1,1]', '{}', '[]', 1, 't'),
        ('m2', 't2', 'i1', 1, '[0,0,1,1]', '{}', '[]', 1, 't'), ('n1', 'u2', 'i2', 1, '[0,0,1,1]', '{}', '[]', 1, 't');
    `);
  const colours = (d: Database.Database) => Object.fromEntries((d.prepare('SELECT id, colour FROM masks ORDER BY id').all() as { id: string; colour: string }[]).map((r) => [r.id, r.colour]));
  // what the map showed then: the palette by the mask's place in its case (turn, then mask)
  const then = { m1: OBJECT_COLOURS[0], m2: OBJECT_COLOURS[1], m3: OBJECT_COLOURS[2], n1: OBJECT_COLOURS[0] };

  it('keep the colour they were drawn in when the database is upgraded (migration 005)', () => {
    const f = path.join(dir, 'old.db');
    openDatabase(f, { migrations: loadMigrations().filter((m) => m.version <= 4) }).close();
    const raw = new Database(f);
    insert(raw);
    raw.close();
    const upgraded = openDatabase(f);
    expect(colours(upgraded)).toEqual(then);
    upgraded.close();
  });

  it('and when an older case file is read in (fillMissingColours), leaving stored colours alone', () => {
    const mem = new Database(':memory:');
    for (const m of loadMigrations()) mem.exec(m.sql);
    insert(mem);
    mem.prepare("UPDATE masks SET colour = '#000000' WHERE id = 'm3'").run();
    mem.prepare("UPDATE masks SET colour = NULL WHERE id <> 'm3'").run();
    expect(fillMissingColours(mem)).toBe(3);
    expect(colours(mem)).toEqual({ ...then, m3: '#000000' });
    mem.close();
  });
});
