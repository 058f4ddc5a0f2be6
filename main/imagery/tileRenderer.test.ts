import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { lngLatToTile, simpleTileSpan } from '../contract/georef.js';
import { ImageryService } from './imageryService.js';
import { TestTiffDir } from './testTiff.js';

const tmp = new TestTiffDir();
const svc = new ImageryService({ cacheBytes: 16 * 1024 * 1024 });
afterAll(async () => {
  await svc.close();
  tmp.remove();
});

const ROWS = [
  [1, 2, 3, 4],
  [5, 6, 7, 8],
  [9, 10, 11, 0],
];

async function decode(png: Uint8Array): Promise<Uint8Array> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([256, 256, 4]);
  return new Uint8Array(data);
}

/** RGBA at the tile pixel that shows lon/lat */
async function rgbaAt(id: string, lon: number, lat: number, z: number): Promise<number[]> {
  const t = lngLatToTile(lon, lat, z);
  const px = await decode(await svc.tile(id, z, t.x, t.y));
  const o = (Math.floor(t.py) * 256 + Math.floor(t.px)) * 4;
  return Array.from(px.subarray(o, o + 4));
}

describe('tile rendering', () => {
  it('places pixels, stretches uint16 2–98 % and makes nodata transparent', async () => {
    // 4×3 px of 0.01° in EPSG:4326 near (10°E, 50°N)
    const f = tmp.grid('place', ROWS, ['-ot', 'UInt16', '-a_srs', 'EPSG:4326', '-a_ullr', '10', '50', '10.04', '49.97', '-a_nodata', '0']);
    await svc.register('place', f);
    // centre of pixel (col 1, row 1) = value 6; stretch lo=1 hi=11 → (6−1)/10·255 ≈ 128
    expect(await rgbaAt('place', 10.015, 49.985, 14)).toEqual([128, 128, 128, 255]);
    expect(await rgbaAt('place', 10.005, 49.995, 14)).toEqual([0, 0, 0, 255]); // value 1 = lo
    expect((await rgbaAt('place', 10.035, 49.975, 14))[3]).toBe(0); // value 0 = nodata
    expect((await rgbaAt('place', 10.05, 49.985, 14))[3]).toBe(0); // east of the image
  });

  it('honours a GDAL internal mask (no nodata value set)', async () => {
    const f = tmp.grid('masked', ROWS, ['--config', 'GDAL_TIFF_INTERNAL_MASK', 'YES', '-ot', 'Byte', '-a_srs', 'EPSG:4326', '-a_ullr', '10', '50', '10.04', '49.97', '-mask', '1']);
    const facts = await svc.register('masked', f);
    expect(facts.nodata).toBeNull();
    expect(await rgbaAt('masked', 10.015, 49.985, 14)).toEqual([6, 6, 6, 255]);
    expect((await rgbaAt('masked', 10.035, 49.975, 14))[3]).toBe(0); // value 0, masked out
  });

  it('returns a fully transparent tile far from the image and NOT_FOUND for unknown ids', async () => {
    const px = await decode(await svc.tile('place', 5, 0, 0));
    expect(px.every((v, i) => i % 4 !== 3 || v === 0)).toBe(true);
    await expect(svc.tile('nope', 0, 0, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('renders non-georeferenced images in the pixel-space scheme', async () => {
    const f = tmp.grid('plain', ROWS, ['-ot', 'Byte']);
    const facts = await svc.register('plain', f);
    expect(facts.georeferenced).toBe(false);
    expect(facts.footprint).toBeNull();
    // 4×3 image: maxZoom 0, one tile of span 256 covers it; image px (x,y) is tile px (x,y) at zoom 0
    expect(simpleTileSpan(4, 3, 0)).toBe(256);
    const px = await decode(await svc.tile('plain', 0, 0, 0));
    const at = (x: number, y: number): number[] => Array.from(px.subarray((y * 256 + x) * 4, (y * 256 + x) * 4 + 4));
    expect(at(2, 1)).toEqual([7, 7, 7, 255]);
    expect(at(3, 2)).toEqual([0, 0, 0, 255]); // no nodata set: 0 is a value
    expect(at(4, 0)[3]).toBe(0);
  });

  it('readRgb resamples a rect with the display stretch', async () => {
    const rgb = await svc.readRgb('place', [0, 0, 4, 3], 4, 3);
    expect(rgb.length).toBe(36);
    expect(Array.from(rgb.subarray(15, 18))).toEqual([128, 128, 128]); // (1,1) = 6
    const up = await svc.readRgb('place', [1, 1, 2, 2], 2, 2);
    expect(Array.from(up)).toEqual(new Array(12).fill(128));
  });

  it('re-registering the same id and path is idempotent', async () => {
    const a = await svc.register('place', tmp.dir + '/place.tif');
    const b = await svc.register('place', tmp.dir + '/place.tif');
    expect(b).toBe(a);
  });
});
