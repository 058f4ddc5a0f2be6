import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerCacheDir } from '../build/bundleWorker.js';
import { VantageError } from '../contract/errors.js';
import { SessionDetail, SessionSummary } from '../contract/schemas.js';
import { processAlive } from '../util/processAlive.js';
import { remeasureCase } from '../masks/measure.js';
import { isUnder } from '../util/safePath.js';
import { seededRandom } from '../util/seededRandom.js';
import { buildCaseReader } from './buildCaseReader.js';
import { CaseFileService, type ImportResult } from './caseFileService.js';
import { UUID } from '../../db/caseFormat.js';
import { loadMigrations } from '../../db/database.js';
import { runCaseReader } from './caseReaderProcess.js';
import { caseApps, caseWithWork, pngFile, type CaseApp } from '../testing/caseFixtures.js';

// Crafted .vantage files, each made from a real export of a real case: every one is refused with one clear line or
// imported safely; nothing is written outside the data folder; nothing hangs; the case list keeps working.

/** the schema version this Vantage writes (the latest migration): refusals name it */
const LATEST = loadMigrations().at(-1)!.version;

let root: string; // everything this test writes: the "home" with the data folder, the crafted files, the exporter
let home: string;
let autostart: string; // where a traversal would like to write (~/.config/autostart)
let crafted: string;
let base: string; // a real export, image embedded
let reader: string;
let apps: ReturnType<typeof caseApps>;
let a: CaseApp; // the exporting machine
let b: CaseApp; // the importing one: its data folder is home/.local/share/vantage, as by default
let rssAtStart: number;

beforeAll(async () => {
  rssAtStart = process.memoryUsage().rss;
  reader = await buildCaseReader();
  root = mkdtempSync(path.join(tmpdir(), 'vantage-hostile-'));
  home = path.join(root, 'home');
  autostart = path.join(home, '.config', 'autostart');
  crafted = path.join(root, 'crafted');
  for (const d of [autostart, crafted, path.join(root, 'pics')]) mkdirSync(d, { recursive: true });
  apps = caseApps();
  a = apps.app(path.join(root, 'exporter'), { script: reader });
  b = apps.app(path.join(home, '.local', 'share', 'vantage'), { script: reader });
  const { s } = await caseWithWork(a, await pngFile(path.join(root, 'pics', 'port.png'), 7));
  a.repo.addReport({ sessionId: s.id, kind: 'geojson', fileName: 'ships.geojson', path: path.join(root, 'out', 'ships.geojson'), options: {}, bytes: Buffer.from('{}'), sha256: 'x', featureCount: 0 });
  base = (await a.files.export({ sessionId: s.id, folder: root, embedImages: true })).path;
}, 60_000);

afterAll(async () => {
  await apps.closeAll();
  rmSync(root, { recursive: true, force: true });
});

/** Every path outside the importing data folder, with its size and modification time. */
function outsideDataDir(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (p === b.dataDir) continue;
      const st = lstatSync(p);
      out.push(`${path.relative(root, p)} ${st.isDirectory() ? 'dir' : st.size} ${st.isDirectory() ? '' : st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** A copy of the real export, changed by `edit` with plain SQLite (foreign keys and checks off, as an attacker). */
function craft(name: string, edit: (db: Database.Database) => void): string {
  const f = path.join(crafted, `${name}.vantage`);
  copyFileSync(base, f);
  const db = new Database(f);
  db.pragma('foreign_keys = OFF');
  db.pragma('ignore_check_constraints = ON');
  edit(db);
  db.close();
  return f;
}

function bytesFile(name: string, bytes: Buffer): string {
  const f = path.join(crafted, `${name}.vantage`);
  writeFileSync(f, bytes);
  return f;
}

/** Changes one row's id in `table` and every foreign key pointing at it. */
function rewriteId(db: Database.Database, table: string, from: string, to: string): void {
  db.prepare(`UPDATE "${table}" SET id = ? WHERE id = ?`).run(to, from);
  for (const t of (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[])) {
    for (const fk of db.pragma(`foreign_key_list("${t}")`) as { table: string; from: string }[]) {
      if (fk.table === table) db.prepare(`UPDATE "${t}" SET "${fk.from}" = ? WHERE "${fk.from}" = ?`).run(to, from);
    }
  }
  if (table === 'sessions') db.prepare("UPDATE settings SET value = ? WHERE key = 'case.sessionId'").run(to);
}
const firstId = (db: Database.Database, table: string) => db.prepare(`SELECT id FROM "${table}" ORDER BY rowid LIMIT 1`).pluck().get() as string;
const random = (seed: number, n: number) => {
  const r = seededRandom(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
};

/**
 * Imports `file` and checks what must hold whatever the file: one clear line or a clean import, nothing written
 * outside the data folder (the file itself untouched, no -wal/-shm beside it), no work folder left, the case list
 * and every imported case still valid under the contract.
 */
async function attempt(file: string): Promise<{ result?: ImportResult; error?: VantageError }> {
  const before = outsideDataDir();
  const cases = b.sessions.list().length;
  let result: ImportResult | undefined;
  let error: VantageError | undefined;
  try {
    result = await b.files.import(file);
  } catch (e) {
    error = e as VantageError;
  }
  expect(outsideDataDir()).toEqual(before);
  expect(readdirSync(b.dataDir).filter((n) => n.startsWith('.import-'))).toEqual([]);
  const list = b.sessions.list();
  for (const s of list) SessionSummary.parse(s);
  if (error) {
    expect(error).toBeInstanceOf(VantageError);
    expect(error.code).not.toBe('INTERNAL');
    expect(error.message).toContain(path.basename(file));
    expect(error.message).not.toMatch(/\n| {4}at /);
    expect(error.message.length).toBeLessThan(300);
    expect(list).toHaveLength(cases);
  } else {
    const id = result!.session.id;
    expect(id).toMatch(UUID);
    SessionDetail.parse(await b.sessions.open(id));
    // an extracted image lies in the case's own folder
    for (const img of b.repo.listImages(id)) if (isUnder(b.dataDir, img.path)) expect(isUnder(path.join(b.dataDir, 'cases', id), img.path)).toBe(true);
    expect(list).toHaveLength(cases + 1);
  }
  return { result, error };
}

type Expect = RegExp | ((r: ImportResult) => void);
const traversal = '../../../../.config/autostart';

const CASES: [string, () => string, Expect][] = [
  ['traversal session id', () => craft('traversal', (db) => rewriteId(db, 'sessions', firstId(db, 'sessions'), traversal)), (r) => {
    expect(r.ids.malformed).toBe(1);
    expect(r.extractedImages).toBe(1);
    expect(b.life.importProvenance(r.session.id)).toMatchObject({ file: 'traversal.vantage', originalSessionId: JSON.stringify(traversal) });
  }],
  ['absolute session id', () => craft('absolute', (db) => rewriteId(db, 'sessions', firstId(db, 'sessions'), path.join(home, 'abs'))), (r) => expect(r.ids.malformed).toBe(1)],
  ['non-UUID row ids', () => craft('non-uuid', (db) => {
    rewriteId(db, 'images', firstId(db, 'images'), 'IMG 1');
    rewriteId(db, 'turns', firstId(db, 'turns'), '../t');
    rewriteId(db, 'masks', firstId(db, 'masks'), 'C:\\m');
    rewriteId(db, 'regions', firstId(db, 'regions'), 'r'.repeat(5000));
  }), (r) => {
    expect(r).toMatchObject({ keptIds: false, ids: { malformed: 4 } });
    expect(Object.values(b.life.importProvenance(r.session.id)!.originalIds)).toContain('"IMG 1"');
  }],
  ['over-long names', () => craft('long-names', (db) => {
    db.prepare('UPDATE sessions SET name = ?').run('N'.repeat(60_000));
    db.prepare('UPDATE images SET path = ?').run(`/pics/${'p'.repeat(5000)}.png`);
  }), (r) => {
    expect(r.session.name).toBe('N'.repeat(200));
    const img = b.repo.listImages(r.session.id)[0]!;
    expect(Buffer.byteLength(path.basename(img.path))).toBeLessThanOrEqual(120);
    expect(img.path.endsWith('.png')).toBe(true);
  }],
  ['image name with ../', () => craft('image-traversal', (db) => db.prepare('UPDATE images SET path = ?').run(`../../../../../${path.relative(root, autostart)}/evil.desktop`)), (r) => {
    expect(path.basename(b.repo.listImages(r.session.id)[0]!.path)).toBe('evil.desktop');
  }],
  ['image name with ..\\ and a reserved name', () => craft('image-backslash', (db) => db.prepare('UPDATE images SET path = ?').run('..\\..\\..\\con')), (r) => {
    expect(path.basename(b.repo.listImages(r.session.id)[0]!.path)).toBe('_con');
  }],
  ['report with a folder elsewhere and a traversal name', () => craft('report', (db) => {
    db.prepare('UPDATE reports SET path = ?, file_name = ?').run(path.join(autostart, 'evil.desktop'), '../../.config/autostart/evil.desktop');
  }), (r) => {
    expect(b.repo.listReports(r.session.id)).toMatchObject([{ path: null, fileName: 'evil.desktop' }]);
  }],
  ['recursive view as settings', () => craft('recursive-view', (db) => {
    db.exec(`DROP TABLE settings; CREATE VIEW settings AS WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r)
      SELECT 'case.sessionId' AS key, k AS value FROM r`);
  }), /recursive-view.vantage is not a Vantage case file .*: it holds a view \("settings"\)/],
  ['an endless recursive view as settings (no row ever comes)', () => craft('endless-view', (db) => {
    db.exec(`DROP TABLE settings; CREATE VIEW settings AS WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r)
      SELECT 'case.sessionId' AS key, k AS value FROM r WHERE k = 0`);
  }), /endless-view.vantage is not a Vantage case file .*: it holds a view \("settings"\)/],
  ['a trigger', () => craft('trigger', (db) => db.exec('CREATE TRIGGER wipe AFTER INSERT ON turns BEGIN DELETE FROM sessions; END')), /it holds a trigger \("wipe"\)/],
  ['an extra table', () => craft('extra-table', (db) => db.exec('CREATE TABLE extra (x)')), new RegExp(`it holds a table "extra" that schema ${LATEST} does not have`)],
  ['a missing column', () => craft('missing-column', (db) => db.exec('ALTER TABLE turns DROP COLUMN provider')), new RegExp(`its table "turns" differs from schema ${LATEST}`)],
  ['a virtual table as settings', () => craft('virtual', (db) => db.exec("DROP TABLE settings; CREATE VIRTUAL TABLE settings USING fts5(key, value)")), new RegExp(`it holds a table "settings_\\w+" that schema ${LATEST} does not have|its table "settings" differs`)],
  ['a newer schema version', () => craft('newer', (db) => db.pragma('user_version = 999')), new RegExp(`newer.vantage was written by a newer Vantage \\(schema 999, this version knows up to ${LATEST}\\)`)],
  ['an older schema version with newer tables', () => craft('older', (db) => db.pragma('user_version = 2')), /it holds a table "reports" that schema 2 does not have/],
  ['no schema version', () => craft('unversioned', (db) => db.pragma('user_version = 0')), /it has no Vantage schema version/],
  ['a foreign SQLite database', () => {
    const f = path.join(crafted, 'foreign.vantage');
    const db = new Database(f);
    db.exec("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x')");
    db.close();
    return f;
  }, /foreign.vantage is not a Vantage case file .*another application/],
  ['a truncated file', () => {
    const bytes = readFileSync(base);
    return bytesFile('truncated', bytes.subarray(0, Math.floor(bytes.length / 2)));
  }, /truncated.vantage is not a Vantage case file this version can read: it is damaged/],
  ['a zero-byte file', () => bytesFile('empty', Buffer.alloc(0)), /empty.vantage .*it is empty \(0 bytes\)/],
  ['random bytes', () => bytesFile('random', random(1, 65536)), /random.vantage .*it is not a SQLite database/],
  ['a SQLite header over random bytes', () => bytesFile('header-garbage', Buffer.concat([readFileSync(base).subarray(0, 100), random(2, 65536)])), /header-garbage.vantage .*(damaged|cannot open)/],
  ['garbage JSON', () => craft('garbage-json', (db) => db.prepare('UPDATE masks SET polygons_json = ?').run('{"oops')), /masks.polygons_json of row 1 is not valid JSON/],
  ['JSON of the wrong shape', () => craft('wrong-shape', (db) => db.prepare('UPDATE regions SET geometry_json = ?').run('{"kind":"hexagon"}')), /regions.geometry_json of row 1 does not hold what Vantage stores there/],
  ['text where a number belongs', () => craft('wrong-type', (db) => db.prepare('UPDATE masks SET score = ?').run('high')), /masks.score of row 1 is not a number/],
  ['bytes where text belongs', () => craft('blob-text', (db) => db.prepare("UPDATE turns SET text = X'00ff'").run()), /turns.text of row 1 is not text/],
  ['a huge row', () => craft('huge-row', (db) => db.prepare('UPDATE turns SET text = ?').run('x'.repeat(6 * 1024 * 1024))), /turns.text holds a value of 6 MB \(at most 4 MB is accepted\)/],
  ['an embedded image whose hash does not match', () => craft('asset-hash', (db) => db.exec('UPDATE case_assets SET bytes = zeroblob(length(bytes))')), (r) => {
    expect(r.extractedImages).toBe(0);
    expect(r.warnings).toEqual([expect.stringMatching(/the embedded copy of "port.png" is damaged/)]);
    expect(b.repo.listImages(r.session.id)[0]!.path).toBe(path.join(root, 'pics', 'port.png'));
  }],
  ['an embedded image with a missing chunk', () => craft('asset-gap', (db) => db.exec("INSERT INTO case_assets SELECT sha256, 5, x'00' FROM case_assets")), (r) => {
    expect(r.extractedImages).toBe(0);
    expect(r.warnings).toHaveLength(1);
  }],
  ['a WAL-mode file', () => craft('wal', (db) => db.pragma('journal_mode = WAL')), (r) => expect(r.extractedImages).toBe(1)],
  ['a case id that names no case', () => craft('missing-case', (db) => db.prepare("UPDATE settings SET value = ? WHERE key = 'case.sessionId'").run(randomUUID())), /missing-case.vantage is damaged: the case it names .* is not in it/],
  ['no case in it', () => craft('no-meta', (db) => db.exec('DELETE FROM settings')), /no-meta.vantage is not an exported Vantage case/],
  ['a row pointing outside the case', () => craft('dangling', (db) => db.prepare('UPDATE masks SET image_id = ?').run(randomUUID())), /dangling.vantage .*damaged \(FOREIGN KEY constraint failed\)/],
  ['a value its CHECK forbids', () => craft('check', (db) => db.exec("UPDATE turns SET role = 'admin'")), /check.vantage .*damaged \(CHECK constraint failed/],
];

describe('hostile .vantage files', () => {
  it('a second import of a case gets fresh ids (all of them), saying so, with the originals kept as provenance', async () => {
    const first = await attempt(base);
    const total = first.result!.ids.kept;
    expect(first.result).toMatchObject({ keptIds: true, ids: { replaced: 0, malformed: 0, alreadyHere: 0 }, extractedImages: 1 });
    const again = await attempt(base);
    expect(again.result).toMatchObject({ keptIds: false, ids: { kept: 0, replaced: total, malformed: 0 } });
    expect(again.result!.ids.alreadyHere).toBeGreaterThan(0);
    const originals = b.life.importProvenance(again.result!.session.id)!.originalIds;
    expect(originals[again.result!.session.id]).toBe(first.result!.session.id);
    expect(Object.keys(originals)).toHaveLength(total);
  });

  it('imports a case whose images (and other rows) are already here under a new case id', async () => {
    const file = craft('images-exist', (db) => rewriteId(db, 'sessions', firstId(db, 'sessions'), randomUUID()));
    const { result, error } = await attempt(file);
    expect(error?.message).toBeUndefined();
    expect(result).toMatchObject({ keptIds: false, extractedImages: 1 });
    expect(result!.ids.alreadyHere).toBeGreaterThan(1);
  });

  describe(`${CASES.length} crafted files: each refused with one clear line or imported safely`, () => {
    for (const [what, make, want] of CASES) {
      it(what, async () => {
        const file = make();
        const started = performance.now();
        const { result, error } = await attempt(file);
        expect(performance.now() - started).toBeLessThan(10_000);
        if (want instanceof RegExp) {
          expect(error?.message).toMatch(want);
        } else {
          expect(error?.message).toBeUndefined();
          want(result!);
        }
      });
    }

    it('wrote nothing where a traversal pointed, and held none of the files in memory', () => {
      expect(CASES.length).toBeGreaterThanOrEqual(20);
      expect(readdirSync(autostart)).toEqual([]);
      expect(existsSync(path.join(home, 'abs'))).toBe(false);
      // the server's own memory: nothing of a hostile file is ever loaded here
      expect(process.memoryUsage().rss - rssAtStart).toBeLessThan(300 * 1024 * 1024);
    });
  });

  it('kills a reader stuck in an endless query at the deadline, answering other calls meanwhile', async () => {
    // a stand-in reader that does what the import did before it checked the schema: query the file's settings,
    // here an endless recursive view (better-sqlite3 cannot interrupt it)
    const dir = workerCacheDir('cases');
    mkdirSync(dir, { recursive: true });
    const script = path.join(dir, 'stuckReader.mjs');
    const pidFile = path.join(root, 'stuck.pid');
    writeFileSync(
      script,
      `import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
process.once('message', (job) => {
  new Database(job.file, { readonly: true }).prepare('SELECT value FROM settings WHERE key = ?').get('case.sessionId');
});
`,
    );
    const slow = new CaseFileService(b.db, b.dataDir, '0.1.0', { reader: { script, deadlineMs: 1500 }, remeasure: remeasureCase });
    const file = craft('stuck', (db) => db.exec(`DROP TABLE settings; CREATE VIEW settings AS WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL
      SELECT k + 1 FROM r) SELECT 'case.sessionId' AS key, k AS value FROM r WHERE k = 0`));
    const ticks: number[] = [];
    const timer = setInterval(() => {
      b.sessions.list();
      ticks.push(performance.now());
    }, 50);
    const started = performance.now();
    try {
      await expect(slow.import(file)).rejects.toThrow(/^stuck.vantage: reading it took longer than 1.5 s; it may be damaged or hostile; nothing was imported$/);
    } finally {
      clearInterval(timer);
    }
    expect(performance.now() - started).toBeLessThan(5000);
    expect(ticks.length).toBeGreaterThanOrEqual(10);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(Math.max(...gaps)).toBeLessThan(500);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 40 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(processAlive(pid)).toBe(false);
    expect(readdirSync(b.dataDir).filter((n) => n.startsWith('.import-'))).toEqual([]);
  });

  it('kills the real reader at a deadline too short to finish, importing nothing', async () => {
    const hurried = new CaseFileService(b.db, b.dataDir, '0.1.0', { reader: { script: reader, deadlineMs: 1 }, remeasure: remeasureCase });
    const cases = b.sessions.list().length;
    await expect(hurried.import(base)).rejects.toThrow(/: reading it took longer than 0.1 s; it may be damaged or hostile; nothing was imported$/);
    expect(b.sessions.list()).toHaveLength(cases);
    expect(readdirSync(b.dataDir).filter((n) => n.startsWith('.import-'))).toEqual([]);
  });

  it('reads a large legitimate row in bounded memory', async () => {
    const file = craft('large-row', (db) => db.prepare('UPDATE turns SET text = ?').run('y'.repeat(3.5 * 1024 * 1024)));
    const work = mkdtempSync(path.join(root, 'work-'));
    const r = await runCaseReader(reader, { file, workDir: work, label: 'large-row.vantage' }, 20_000);
    expect(r.peakRssKb * 1024).toBeLessThan(300 * 1024 * 1024);
  });
});
