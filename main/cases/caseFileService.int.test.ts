import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildCaseReader } from './buildCaseReader.js';
import { sha256OfFile } from '../util/fileHash.js';
import { caseApps, caseWithWork, pngFile as png, type CaseApp } from '../testing/caseFixtures.js';

let dir: string;
let readerScript: string;
let apps: ReturnType<typeof caseApps>;
beforeAll(async () => {
  readerScript = await buildCaseReader();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-casefile-'));
  apps = caseApps();
});
afterEach(async () => {
  await apps.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const app = (name: string) => apps.app(path.join(dir, name), { script: readerScript });
const pngFile = (name: string, seed: number) => png(path.join(dir, name), seed);

const contentOf = async (a: CaseApp, id: string) => {
  const d = await a.sessions.open(id);
  return {
    name: d.session.name,
    turns: d.turns.map((t) => [t.role, t.text, t.status]),
    masks: d.masks.map((m) => [m.phrase, m.score, m.bbox, m.polygons]),
    regions: d.regions.map((r) => [r.label, r.geometry]),
    view: d.view,
    images: d.images.map((i) => [i.sha256, i.width, i.height]),
  };
};

describe('.vantage case files', () => {
  it('exports a case by reference and imports it elsewhere exactly, keeping ids; a second import gets new ids', async () => {
    const a = app('a');
    const { s } = await caseWithWork(a, await pngFile('port.png', 7));
    const out = path.join(dir, 'usb');
    mkdirSync(out);
    const r = await a.files.export({ sessionId: s.id, folder: out, embedImages: false });
    expect(r.fileName).toBe('Port survey.vantage');
    expect(readdirSync(out)).toEqual(['Port survey.vantage']); // no temp or -wal left beside it
    // it is a self-contained SQLite file that any SQLite tool can read
    const raw = new Database(r.path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(raw.prepare('SELECT count(*) AS n FROM turns').get()).toEqual({ n: 2 });
    raw.close();

    const b = app('b');
    const imported = await b.files.import(r.path);
    expect(imported).toMatchObject({ keptIds: true, extractedImages: 0 });
    expect(imported.session.id).toBe(s.id);
    expect(await contentOf(b, s.id)).toEqual(await contentOf(a, s.id));
    const again = await b.files.import(r.path);
    expect(again.keptIds).toBe(false);
    expect(again.session.id).not.toBe(s.id);
    expect(await contentOf(b, again.session.id)).toEqual(await contentOf(a, s.id));
    // a second export into the same folder never overwrites the first
    expect((await a.files.export({ sessionId: s.id, folder: out, embedImages: false })).fileName).toBe('Port survey (2).vantage');
  });

  it('embeds images on request and extracts them on import, so the case opens with its image on another machine', async () => {
    const a = app('a');
    const image = await pngFile('port.png', 11);
    const { s } = await caseWithWork(a, image);
    const r = await a.files.export({ sessionId: s.id, folder: dir, embedImages: true });
    expect(r.embeddedImages).toBe(1);
    rmSync(image); // the original is gone: only the case file travels
    const b = app('b');
    const imported = await b.files.import(r.path);
    expect(imported.extractedImages).toBe(1);
    const d = await b.sessions.open(imported.session.id);
    expect(d.images[0]!.missing).toBe(false);
    const stored = b.repo.listImages(imported.session.id)[0]!;
    expect(stored.path.startsWith(path.join(b.dataDir, 'cases'))).toBe(true);
    expect(await sha256OfFile(stored.path)).toBe(stored.sha256);
  });

  it('refuses a foreign, corrupt, newer or non-case file for import, leaving it byte-for-byte untouched', async () => {
    const b = app('b');
    const foreign = path.join(dir, 'contacts.vantage');
    const other = new Database(foreign);
    other.exec('CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES (\'x\')');
    other.close();
    const corrupt = path.join(dir, 'corrupt.vantage');
    writeFileSync(corrupt, 'definitely not SQLite');
    const a = app('a');
    const { s } = await caseWithWork(a, await pngFile('p.png', 3));
    const newer = (await a.files.export({ sessionId: s.id, folder: dir, embedImages: false })).path;
    const raw = new Database(newer);
    raw.pragma('user_version = 999');
    raw.close();
    const appDb = path.join(a.dataDir, 'vantage.db');
    a.db.pragma('wal_checkpoint(TRUNCATE)');
    const snapshot = path.join(dir, 'app-copy.vantage');
    copyFileSync(appDb, snapshot);

    const cases: [string, RegExp][] = [
      [foreign, /contacts.vantage .*another application \(Vantage will not modify it\)/],
      [corrupt, /not a SQLite database/],
      [newer, /newer Vantage \(schema 999/],
      [snapshot, /not an exported Vantage case/],
    ];
    for (const [file, why] of cases) {
      const before = readFileSync(file);
      await expect(b.files.import(file)).rejects.toThrow(why);
      expect(readFileSync(file).equals(before), file).toBe(true);
      expect(existsSync(`${file}-wal`)).toBe(false);
    }
    expect(b.sessions.list()).toEqual([]);
  });

  it('relinks a moved image only to a file with the same content', async () => {
    const a = app('a');
    const image = await pngFile('port.png', 5);
    const { s, img } = await caseWithWork(a, image);
    const moved = path.join(dir, 'moved.png');
    renameSync(image, moved);
    expect((await a.sessions.open(s.id)).images[0]!.missing).toBe(true);
    const impostor = await pngFile('other.png', 6);
    await expect(a.sessions.relink(img.id, impostor)).rejects.toThrow(/other.png is not the image this case used \(port.png\): its content differs/);
    const relinked = await a.sessions.relink(img.id, moved);
    expect(relinked.missing).toBe(false);
    expect((await a.sessions.open(s.id)).images[0]!.missing).toBe(false);
    expect(a.repo.getImage(img.id).path).toBe(moved);
  });
});
