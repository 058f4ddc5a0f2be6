import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, loadMigrations, openDatabase } from './database.js';
import { CaseRepository } from './repository.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'vantage-db-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openDatabase', () => {
  it('applies every migration with WAL, synchronous=FULL and foreign keys on', () => {
    const db = openDatabase(path.join(dir, 'case.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(loadMigrations().at(-1)!.version);
    db.close();
  });

  it('refuses a file that is not SQLite and leaves it byte-for-byte intact', () => {
    const f = path.join(dir, 'notes.db');
    writeFileSync(f, 'this is not a database, just some text that is long enough');
    expect(() => openDatabase(f)).toThrow(/not a SQLite database/);
    expect(readFileSync(f, 'utf8')).toMatch(/^this is not a database/);
  });

  it("refuses another application's SQLite database without writing to it", () => {
    const f = path.join(dir, 'other.db');
    const other = new Database(f);
    other.exec('CREATE TABLE contacts (name TEXT)');
    other.close();
    const before = readFileSync(f);
    expect(() => openDatabase(f)).toThrow(/another application/);
    expect(readFileSync(f).equals(before)).toBe(true);
  });

  it('refuses a case database written by a newer schema, naming both versions', () => {
    const f = path.join(dir, 'new.db');
    openDatabase(f).close();
    const raw = new Database(f);
    raw.pragma('user_version = 999');
    raw.close();
    expect(() => openDatabase(f)).toThrow(/newer Vantage \(schema 999/);
  });
});

describe('CaseRepository', () => {
  it('stores a question with regions atomically and reopens it after closing the database', () => {
    const f = path.join(dir, 'case.db');
    let db = openDatabase(f);
    let repo = new CaseRepository(db);
    const s = repo.createSession('Flood survey');
    const img = repo.addImage(s.id, { path: '/x/a.tif', sha256: 'abc', sizeBytes: 10, facts: { width: 5 } });
    expect(repo.addImage(s.id, { path: '/y/a-copy.tif', sha256: 'abc', sizeBytes: 10, facts: {} })).toEqual({ id: img.id, created: false });
    const q = repo.addQuestion({ sessionId: s.id, imageId: img.id, text: 'what is <region1>?', regions: [{ geometry: { kind: 'box', x0: 1, y0: 2, x1: 3, y1: 4 }, wgs84: null }] });
    repo.addMask({ turnId: q.assistantTurnId, imageId: img.id, regionId: q.regions[0]!.id, phrase: 'roof', score: 0.9, bbox: [1, 2, 3, 4], rle: { width: 2, height: 2, origin: [1, 2], runs: [0, 4] }, polygons: [[[[1, 2], [3, 2], [3, 4], [1, 4], [1, 2]]]], areaPx: 4 });
    db.close();

    db = openDatabase(f);
    repo = new CaseRepository(db);
    expect(repo.recoverInterrupted()).toBe(1); // the assistant turn never finished
    const turns = repo.listTurns(s.id);
    expect(turns.map((t) => [t.role, t.status])).toEqual([['user', 'complete'], ['assistant', 'failed']]);
    expect(turns[0]!.regionIds).toEqual([q.regions[0]!.id]);
    expect(repo.listRegions(s.id)[0]!.geometry).toEqual({ kind: 'box', x0: 1, y0: 2, x1: 3, y1: 4 });
    expect(repo.listMasks(s.id)[0]!.phrase).toBe('roof');
    expect(repo.listSessions()[0]).toMatchObject({ name: 'Flood survey', imageCount: 1, turnCount: 2 });
    db.close();
  });

  it('rejects rows that break foreign keys', () => {
    const db = openDatabase(path.join(dir, 'case.db'));
    const repo = new CaseRepository(db);
    expect(() => repo.addQuestion({ sessionId: 'nope', imageId: 'nope', text: 'x', regions: [] })).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
