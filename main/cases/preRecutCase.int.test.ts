import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCaseReader } from './buildCaseReader.js';
import { caseApps } from '../testing/caseFixtures.js';

/**
 * fixtures/pre-recut-harbour.vantage was exported by the code before the recut (issue 15): a 32×24 PNG embedded,
 * one question, a mask inside the image and one whose raster hangs over the right and bottom edges — stored then
 * with an outline reaching x = 34, y = 24. It must still import, and its outlines are measured again from the
 * rasters (never trusted from the file): clipped to the image.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/pre-recut-harbour.vantage', import.meta.url));

let dir: string;
let readerScript: string;
const apps = caseApps();
beforeAll(async () => {
  readerScript = await buildCaseReader();
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-prerecut-'));
});
afterAll(async () => {
  await apps.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

it('a case file exported before the recut imports, its mask outlines measured again from their rasters', async () => {
  const b = apps.app(path.join(dir, 'b'), { script: readerScript });
  const r = await b.files.import(FIXTURE);
  expect(r).toMatchObject({ keptIds: true, extractedImages: 1, warnings: [] });
  const d = await b.sessions.open(r.session.id);
  expect(d.session.name).toBe('Pre-recut harbour');
  expect(d.images.map((i) => [i.width, i.height, i.missing])).toEqual([[32, 24, false]]);
  expect(d.turns.map((t) => [t.role, t.status])).toEqual([['user', 'complete'], ['assistant', 'complete']]);
  expect(d.masks.map((m) => [m.phrase, m.bbox])).toEqual([['pier', [4, 4, 16, 16]], ['moored boat', [22, 12, 34, 24]]]);
  const [pier, boat] = d.masks;
  // inside the image: the same outline as stored
  expect(pier!.polygons).toEqual([[[[6, 4], [14, 4], [14, 6], [16, 6], [16, 14], [14, 14], [14, 16], [6, 16], [6, 14], [4, 14], [4, 6], [6, 6], [6, 4]]]]);
  // over the edge: re-measured, clipped to the 32×24 image (the file said x up to 34)
  const xs = boat!.polygons.flat(2).map(([x]) => x);
  const ys = boat!.polygons.flat(2).map(([, y]) => y);
  expect(Math.max(...xs)).toBe(32);
  expect(Math.max(...ys)).toBe(24);
  expect(Math.min(...xs)).toBe(22);
});
