import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
