import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vantage-mbtiles-'));
let services: Services;
beforeAll(() => {
  services = createServices({ dataDir: path.join(dir, 'data'), mode: 'browser', log: () => {} });
});
afterAll(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

/** zoom 1: four tiles, each one solid colour keyed by its XYZ address, stored at the TMS row */
const COLOURS: Record<string, [number, number, number]> = {
  '0/0': [255, 0, 0],
  '1/0': [0, 255, 0],
  '0/1': [0, 0, 255],
  '1/1': [255, 255, 0],
};

async function writeMbtiles(file: string, format: 'png' | 'jpg'): Promise<void> {
  const db = new Database(file);
  db.exec(`CREATE TABLE metadata (name TEXT, value TEXT);
    CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);`);
  const meta = db.prepare('INSERT INTO metadata VALUES (?, ?)');
  for (const [k, v] of [['name', 'Test basemap'], ['format', format], ['minzoom', '1'], ['maxzoom', '1'], ['bounds', '-180,-85,180,85']]) meta.run(k, v);
  const put = db.prepare('INSERT INTO tiles VALUES (1, ?, ?, ?)');
  for (const [key, [r, g, b]] of Object.entries(COLOURS)) {
    const [x, y] = key.split('/').map(Number) as [number, number];
    const img = sharp({ create: { width: 256, height: 256, channels: 3, background: { r, g, b } } });
    put.run(x, 1 - y, format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 95 }).toBuffer());
  }
  db.close();
}

async function centre(png: Uint8Array): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const i = (128 * info.width + 128) * info.channels;
  return [...data.subarray(i, i + info.channels)];
}

it('serves MBTiles tiles by XYZ address (TMS rows flipped), transparent where missing, PNG whatever the format', async () => {
  const d = services.dispatcher;
  for (const format of ['png', 'jpg'] as const) {
    const file = path.join(dir, `base-${format}.mbtiles`);
    await writeMbtiles(file, format);
    const ref = services.files.refFor(file, 'file');
    const set = (await d.call('imagery.setBasemap', { file: ref })) as { basemap: { name: string; minZoom: number; bounds: number[] } };
    expect(set.basemap).toMatchObject({ name: 'Test basemap', minZoom: 1, maxZoom: 1, format, bounds: [-180, -85, 180, 85] });
    for (const [key, rgb] of Object.entries(COLOURS)) {
      const [x, y] = key.split('/');
      const t = await d.resource('imagery.basemapTile', { z: '1', x, y });
      expect(t.contentType).toBe('image/png');
      const px = await centre(t.body);
      px.slice(0, 3).forEach((v, k) => expect(Math.abs(v - rgb[k]!)).toBeLessThanOrEqual(format === 'png' ? 0 : 6));
    }
    const missing = await d.resource('imagery.basemapTile', { z: '5', x: '3', y: '3' });
    expect((await centre(missing.body))[3]).toBe(0);
  }
  expect(await d.call('imagery.basemap', {})).toMatchObject({ basemap: { name: 'Test basemap' } });
  expect(await d.call('imagery.setBasemap', { file: null })).toEqual({ basemap: null });
  await expect(d.resource('imagery.basemapTile', { z: '1', x: '0', y: '0' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

it('refuses files that are not raster MBTiles with a specific error', async () => {
  const notSqlite = path.join(dir, 'photo.mbtiles');
  writeFileSync(notSqlite, 'this is not SQLite at all, just some text padding it out'.repeat(40));
  const noTiles = path.join(dir, 'empty.mbtiles');
  new Database(noTiles).exec('CREATE TABLE metadata (name TEXT, value TEXT)').close();
  const d = services.dispatcher;
  await expect(d.call('imagery.setBasemap', { file: services.files.refFor(notSqlite, 'file') })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  await expect(d.call('imagery.setBasemap', { file: services.files.refFor(noTiles, 'file') })).rejects.toMatchObject({
    code: 'BAD_INPUT',
    message: expect.stringMatching(/no "tiles" table/),
  });
});

it('remembers the basemap across a restart on the same data folder, and says once when its file has gone', async () => {
  const dataDir = path.join(dir, 'restart-data');
  const file = path.join(dir, 'remembered.mbtiles');
  await writeMbtiles(file, 'png');
  let s = createServices({ dataDir, mode: 'browser', log: () => {} });
  try {
    await s.dispatcher.call('imagery.setBasemap', { file: s.files.refFor(file, 'file') });
  } finally {
    await s.close();
  }

  // a new backend on the same data folder finds it open and serves its tiles without being asked again
  const logged: string[] = [];
  s = createServices({ dataDir, mode: 'browser', log: (m) => logged.push(m) });
  try {
    expect(await s.dispatcher.call('imagery.basemap', {})).toMatchObject({ basemap: { name: 'Test basemap', format: 'png' }, notice: null });
    const t = await s.dispatcher.resource('imagery.basemapTile', { z: '1', x: '1', y: '0' });
    expect((await centre(t.body)).slice(0, 3)).toEqual([0, 255, 0]);
  } finally {
    await s.close();
  }
  expect(logged.filter((m) => /basemap/i.test(m))).toEqual([]);

  // the file is gone: no basemap, one notice naming it (not its folder), the setting cleared
  unlinkSync(file);
  s = createServices({ dataDir, mode: 'browser', log: (m) => logged.push(m) });
  try {
    const first = (await s.dispatcher.call('imagery.basemap', {})) as { basemap: unknown; notice: string | null };
    expect(first.basemap).toBeNull();
    expect(first.notice).toMatch(/“remembered\.mbtiles” chosen earlier could not be reopened: the file is gone/);
    expect(first.notice).not.toContain(dir);
    expect(await s.dispatcher.call('imagery.basemap', {})).toEqual({ basemap: null, notice: null });
    await expect(s.dispatcher.resource('imagery.basemapTile', { z: '1', x: '0', y: '0' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  } finally {
    await s.close();
  }
  expect(logged.filter((m) => /remembered\.mbtiles/.test(m))).toHaveLength(1);

  // removing the basemap is remembered too: a restart after "✕" opens none and says nothing
  await writeMbtiles(file, 'png');
  s = createServices({ dataDir, mode: 'browser', log: () => {} });
  try {
    expect(await s.dispatcher.call('imagery.basemap', {})).toEqual({ basemap: null, notice: null });
    await s.dispatcher.call('imagery.setBasemap', { file: s.files.refFor(file, 'file') });
    await s.dispatcher.call('imagery.setBasemap', { file: null });
  } finally {
    await s.close();
  }
  s = createServices({ dataDir, mode: 'browser', log: () => {} });
  try {
    expect(await s.dispatcher.call('imagery.basemap', {})).toEqual({ basemap: null, notice: null });
  } finally {
    await s.close();
  }
});
