import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaseLifecycleRepository } from './caseLifecycle.js';
import { openDatabase, type Db } from './database.js';
import { CaseRepository } from './repository.js';

let dir: string;
let db: Db;
let repo: CaseRepository;
let life: CaseLifecycleRepository;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-life-'));
  db = openDatabase(path.join(dir, 'case.db'));
  repo = new CaseRepository(db);
  life = new CaseLifecycleRepository(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function caseWithWork(name: string, imagePath = '/data/port.tif', question = 'how many ships near <region1>?') {
  const s = repo.createSession(name);
  const img = repo.addImage(s.id, { path: imagePath, sha256: `sha-${name}`, sizeBytes: 10, facts: { width: 5 } });
  const q = repo.addQuestion({ sessionId: s.id, imageId: img.id, text: question, regions: [{ geometry: { kind: 'box', x0: 1, y0: 2, x1: 3, y1: 4 }, wgs84: null }] });
  repo.addMask({ turnId: q.assistantTurnId, imageId: img.id, regionId: q.regions[0]!.id, phrase: 'ship', score: 0.9, bbox: [1, 2, 3, 4], rle: { width: 2, height: 2, origin: [1, 2], runs: [0, 4] }, polygons: [[[[1, 2], [3, 2], [3, 4], [1, 4], [1, 2]]]], areaPx: 4 });
  repo.finishTurn(q.assistantTurnId, { text: 'three ships', status: 'complete', durationMs: 5, pack: null, provider: 'cpu' });
  repo.saveView(s.id, { lat: 1, lng: 2, zoom: 12 });
  return { s, img, q };
}

describe('case lifecycle', () => {
  it('renames a case', () => {
    const { s } = caseWithWork('Port');
    expect(life.rename(s.id, 'Port of Aden').name).toBe('Port of Aden');
    expect(repo.listSessions()[0]!.name).toBe('Port of Aden');
  });

  it('duplicates deeply: new ids everywhere, same content, independent of the original', () => {
    const { s } = caseWithWork('Port');
    repo.addReport({ sessionId: s.id, kind: 'geojson', fileName: 'port.geojson', path: null, options: {}, sha256: 'x', featureCount: 1, bytes: new Uint8Array([1, 2, 3]) });
    const copy = life.duplicate(s.id, 'Port (copy)');
    // tables added by later migrations (reports, 003) are copied too: the copier follows foreign keys
    expect(repo.listReports(copy.id).map((r) => [r.fileName, r.size])).toEqual([['port.geojson', 3]]);
    expect(repo.listReports(copy.id)[0]!.id).not.toBe(repo.listReports(s.id)[0]!.id);
    expect(copy.id).not.toBe(s.id);
    expect(copy).toMatchObject({ name: 'Port (copy)', imageCount: 1, turnCount: 2 });
    const [a, b] = [s.id, copy.id].map((id) => ({ images: repo.listImages(id), turns: repo.listTurns(id), regions: repo.listRegions(id), masks: repo.listMasks(id), view: repo.getView(id) }));
    expect(b!.turns.map((t) => [t.role, t.text, t.status])).toEqual(a!.turns.map((t) => [t.role, t.text, t.status]));
    expect(b!.masks[0]).toMatchObject({ phrase: 'ship', areaPx: 4 });
    expect(b!.view).toEqual({ lat: 1, lng: 2, zoom: 12 });
    // every id is new and every reference points inside the copy
    const idsA = new Set([...a!.images, ...a!.turns, ...a!.regions, ...a!.masks].map((x) => x.id));
    for (const x of [...b!.images, ...b!.turns, ...b!.regions, ...b!.masks]) expect(idsA.has(x.id)).toBe(false);
    expect(b!.masks[0]!.turnId).toBe(b!.turns[1]!.id);
    expect(b!.masks[0]!.regionId).toBe(b!.regions[0]!.id);
    expect(b!.masks[0]!.imageId).toBe(b!.images[0]!.id);
    expect(b!.turns[0]!.regionIds).toEqual([b!.regions[0]!.id]);
    // deleting and purging the original leaves the copy whole
    life.softDelete(s.id);
    life.purge({ sessionId: s.id });
    expect(repo.listMasks(copy.id)).toHaveLength(1);
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });

  it('deletes softly with undo, and purges for good only deleted cases', () => {
    const { s } = caseWithWork('Port');
    const { purgeAfter } = life.softDelete(s.id);
    expect(new Date(purgeAfter).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(repo.listSessions()).toEqual([]);
    expect(life.listDeleted().map((d) => d.id)).toEqual([s.id]);
    // the list says when each deleted case goes for good: the same date the delete answered
    expect(life.listDeleted()[0]).toMatchObject({ name: 'Port', turnCount: 2, purgeAfter });
    expect(() => life.rename(s.id, 'x')).toThrow(/was deleted; restore it/);
    expect(life.restore(s.id)).toMatchObject({ id: s.id, turnCount: 2 });
    expect(repo.listSessions().map((x) => x.id)).toEqual([s.id]);
    expect(() => life.purge({ sessionId: s.id })).toThrow(/not deleted/);
    life.softDelete(s.id);
    expect(life.purge({ before: new Date(Date.now() - 86_400_000) })).toBe(0);
    expect(life.purge({ before: new Date(Date.now() + 1000) })).toBe(1);
    expect(repo.listMasks(s.id)).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM turns').get()).toEqual({ n: 0 });
  });

  it('searches by name, image file, turn text and date, taking wildcards literally', () => {
    const a = caseWithWork('Harbour watch', '/data/aden_2024.tif', 'ships at the pier?').s;
    const b = caseWithWork('Flood 100%', '/data/river.tif', 'is the bridge under water?').s;
    const ids = (q: string) => life.search(q).map((s) => s.id).sort();
    expect(ids('harbour')).toEqual([a.id]);
    expect(ids('aden_2024')).toEqual([a.id]);
    expect(ids('BRIDGE')).toEqual([b.id]);
    expect(ids('100%')).toEqual([b.id]);
    expect(ids('three ships')).toEqual([a.id, b.id].sort());
    expect(ids(new Date().toISOString().slice(0, 10))).toEqual([a.id, b.id].sort());
    expect(ids('_')).toEqual([a.id]);
    expect(ids('nothing like this')).toEqual([]);
    life.softDelete(a.id);
    expect(ids('harbour')).toEqual([]);
  });

  it("keeps an imported case's provenance until the case is purged", () => {
    const a = caseWithWork('Imported').s;
    const b = caseWithWork('Also imported').s;
    const p = { file: 'x.vantage', importedAt: '2026-01-01T00:00:00.000Z', schemaVersion: 3, originalSessionId: '"../x"', originalIds: { [a.id]: '"../x"' } };
    life.recordImport(a.id, p);
    life.recordImport(b.id, { ...p, originalIds: {} });
    expect(life.importProvenance(a.id)).toEqual(p);
    life.softDelete(a.id);
    expect(life.importProvenance(a.id)).toEqual(p); // restorable, so still known
    life.purge({ sessionId: a.id });
    expect(life.importProvenance(a.id)).toBeNull();
    expect(life.importProvenance(b.id)).not.toBeNull();
    life.softDelete(b.id);
    life.purge({ before: new Date(Date.now() + 1000) });
    expect(life.importProvenance(b.id)).toBeNull();
  });
});
