import { execFile, spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CaseRepository } from '../../db/repository.js';
import { openDatabase } from '../../db/database.js';
import { repoRoot } from '../testing/data.js';

const run = promisify(execFile);
const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
let dir: string;

beforeAll(async () => {
  // always rebuild: a stale dist/ from before this command existed would test old code
  await run(process.execPath, [path.join(repoRoot, 'main/build/build.mjs'), '--backend-only'], { cwd: repoRoot });
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-cli-sessions-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vantage = (dataDir: string, ...args: string[]) => run(process.execPath, [cli, '--data-dir', dataDir, ...args], { cwd: repoRoot });
const json = async <T>(dataDir: string, ...args: string[]) => JSON.parse((await vantage(dataDir, ...args, '--json')).stdout) as T;

it('lists, shows, searches, exports and imports cases from the command line', async () => {
  const a = path.join(dir, 'a');
  mkdirSync(a);
  const db = openDatabase(path.join(a, 'vantage.db'));
  const repo = new CaseRepository(db);
  const s = repo.createSession('Bridge inspection');
  const img = repo.addImage(s.id, { path: '/gone/bridge.tif', sha256: 'abc', sizeBytes: 1, facts: { name: 'bridge.tif', width: 4, height: 4 } });
  repo.addQuestion({ sessionId: s.id, imageId: img.id, text: 'is the deck intact?', regions: [] });
  repo.createSession('Other');
  db.close();

  const list = await json<{ id: string; name: string }[]>(a, 'sessions', 'list');
  expect(list.map((c) => c.name).sort()).toEqual(['Bridge inspection', 'Other']);
  expect((await json<{ id: string }[]>(a, 'sessions', 'list', '--query', 'deck')).map((c) => c.id)).toEqual([s.id]);
  const shown = await json<{ name: string; images: { missing: boolean }[]; turns: unknown[] }>(a, 'sessions', 'show', s.id);
  expect(shown).toMatchObject({ name: 'Bridge inspection', images: [{ missing: true }] });
  expect(shown.turns).toHaveLength(2);
  expect((await vantage(a, 'sessions', 'show', s.id)).stdout).toMatch(/MISSING — relink it/);

  const exported = await json<{ fileName: string; path: string }>(a, 'sessions', 'export', s.id, '--out', dir);
  expect(exported.fileName).toBe('Bridge inspection.vantage');
  const b = path.join(dir, 'b');
  const imported = await json<{ session: { id: string; name: string; turnCount: number }; keptIds: boolean }>(b, 'sessions', 'import', exported.path);
  expect(imported).toMatchObject({ keptIds: true, session: { id: s.id, name: 'Bridge inspection', turnCount: 2 } });

  await vantage(a, 'sessions', 'delete', s.id);
  expect((await json<{ name: string }[]>(a, 'sessions', 'list')).map((c) => c.name)).toEqual(['Other']);
  await vantage(a, 'sessions', 'restore', s.id);
  expect(await json<unknown[]>(a, 'sessions', 'list')).toHaveLength(2);
  await expect(vantage(a, 'sessions', 'import', path.join(a, 'vantage.db'))).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/not an exported Vantage case/) });
  // hostile or damaged case files: one line each on stderr, no stack trace, nothing imported
  const truncated = path.join(dir, 'truncated.vantage');
  const bytes = readFileSync(exported.path);
  writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
  const endless = path.join(dir, 'endless.vantage');
  copyFileSync(exported.path, endless);
  const raw = new Database(endless);
  raw.exec(`DROP TABLE settings; CREATE VIEW settings AS WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r)
    SELECT 'case.sessionId' AS key, k AS value FROM r WHERE k = 0`);
  raw.close();
  for (const [file, why] of [[truncated, /it is damaged/], [endless, /it holds a view \("settings"\)/]] as const) {
    const failed = await vantage(b, 'sessions', 'import', file).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(1);
    expect(failed!.stderr).toMatch(new RegExp(`^vantage: ${path.basename(file)} is not a Vantage case file this version can read: .*; nothing was imported\n$`));
    expect(failed!.stderr).toMatch(why);
  }
  expect(await json<unknown[]>(b, 'sessions', 'list')).toHaveLength(1);
  await expect(vantage(a, 'sessions', 'frob')).rejects.toMatchObject({ stderr: expect.stringMatching(/unknown sessions command "frob"/) });
});

it('refuses a second running app on the same data folder, naming the first, and starts once it is gone', async () => {
  const dataDir = path.join(dir, 'single');
  const first = spawn(process.execPath, [cli, '--data-dir', dataDir, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      first.stdout.once('data', () => resolve());
      first.once('exit', (code) => reject(new Error(`first serve exited ${code}`)));
    });
    await expect(vantage(dataDir, 'serve')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(new RegExp(`already running on this data folder .*process ${first.pid}`)),
    });
    // one-shot commands share the database with the running app (SQLite WAL) instead of being refused
    expect(await json<unknown[]>(dataDir, 'sessions', 'list')).toEqual([]);
  } finally {
    first.kill('SIGKILL');
    await new Promise((r) => first.once('close', r));
  }
  // the killed app left a stale lock: the next start takes it over
  const second = spawn(process.execPath, [cli, '--data-dir', dataDir, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    second.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.trim()));
    second.once('exit', (code) => reject(new Error(`second serve exited ${code}`)));
  });
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  second.kill('SIGTERM');
  await new Promise((r) => second.once('close', r));
});
