import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithData, repoRoot } from '../testing/data.js';
import { parseTiePoints } from '../contract/calls/change.js';

const run = promisify(execFile);
const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
let dataDir: string;

beforeAll(async () => {
  // a bundle built before the change command (or its captioning) existed would not know it
  if (!existsSync(cli) || !readFileSync(cli, 'utf8').includes('change.caption')) {
    await run(process.execPath, [path.join(repoRoot, 'main/build/build.mjs'), '--backend-only'], { cwd: repoRoot });
  }
  dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-cli-change-'));
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const vantage = (...args: string[]) => run(process.execPath, [cli, '--data-dir', dataDir, ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });

it('parses tie points and names a malformed one', () => {
  expect(parseTiePoints('1,2:3,4; 5,6:7,8')).toEqual([{ a: [1, 2], b: [3, 4] }, { a: [5, 6], b: [7, 8] }]);
  expect(() => parseTiePoints('1,2:3')).toThrow(/tie points are "xa,ya:xb,yb" pairs/);
  expect(() => parseTiePoints('1,:3,4')).toThrow(/got "1,:3,4"/);
});

describeWithData('vantage change', ['imagery/bitemporal_naip/naip_2009-08-18.tif', 'imagery/bitemporal_naip/naip_2020-08-31.tif', 'imagery/MANIFEST.md'], ([a, b]) => {
  it('prints overlap, offset, changed area and polygon count as JSON', async () => {
    const { stdout } = await vantage('change', a!, b!, '--json', '--min-area', '200');
    const r = JSON.parse(stdout) as {
      imageA: { date: string };
      overlap: { pctOfA: number };
      offset: { dxPx: number };
      changedM2: number;
      polygonCount: number;
      minAreaPx: number;
      caption: unknown;
    };
    expect(r.imageA.date).toBe('2009-08-18');
    expect(r.overlap.pctOfA).toBeGreaterThan(99);
    expect(Math.abs(r.offset.dxPx)).toBeLessThan(1);
    expect(r.changedM2).toBeGreaterThan(0);
    expect(r.polygonCount).toBeGreaterThan(0);
    expect(r.minAreaPx).toBe(9); // 200 m² over 4.99 × 5.00 m pixels, rounded up
    expect(r.caption).toBeNull();
  });

  it('captions the pair with --pack (bitemporal mode of the test pack)', async () => {
    const pack = path.join(repoRoot, 'native-models', 'testpack', 'pack');
    const { stdout } = await vantage('change', a!, b!, '--json', '--pack', pack);
    const r = JSON.parse(stdout) as { caption: { text: string | null; note: string } };
    expect(typeof r.caption.text).toBe('string');
    expect(r.caption.text!.length).toBeGreaterThan(0);
    expect(r.caption.note).toMatch(/bitemporal/);
  }, 60_000);

  it('refuses a pair that cannot be aligned, saying what to give', async () => {
    await expect(vantage('change', a!, path.join(path.dirname(a!), '..', 'MANIFEST.md'))).rejects.toMatchObject({ code: 1 });
    await expect(vantage('change', a!, b!, '--tie', '1,2:3')).rejects.toMatchObject({ stderr: expect.stringMatching(/tie points are "xa,ya:xb,yb" pairs/) });
  });
});
