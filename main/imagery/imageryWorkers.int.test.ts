import { execFileSync } from 'node:child_process';
import { mgrsInverse } from './mgrs.js';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lngLatToTile } from '../contract/georef.js';
import { describeWithData } from '../testing/data.js';
import { buildTileWorker } from './buildTileWorker.js';
import { ImageryService } from './imageryService.js';

let pooled: ImageryService;
const local = new ImageryService();
beforeAll(async () => {
  pooled = new ImageryService({ workerUrl: await buildTileWorker(), poolSize: 2 });
}, 60_000);
afterAll(async () => {
  await pooled?.close();
  await local.close();
});

function gdalValues(file: string, px: number, py: number): number[] {
  return execFileSync('gdallocationinfo', ['-valonly', file, String(px), String(py)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
}
function gdalPixelToLngLat(file: string, px: number, py: number): [number, number] {
  const out = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', '-output_xy', file], { input: `${px} ${py}\n`, encoding: 'utf8' });
  const [lon, lat] = out.trim().split(/\s+/).map(Number);
  return [lon!, lat!];
}
function gdalPixelToCrs(file: string, px: number, py: number): [number, number] {
  const out = execFileSync('gdaltransform', ['-output_xy', file], { input: `${px} ${py}\n`, encoding: 'utf8' });
  const [x, y] = out.trim().split(/\s+/).map(Number);
  return [x!, y!];
}

const FILES = [
  'imagery/optical_utm/RGB.byte.tif',
  'imagery/optical_3857/web_mercator_uint16_tiled.tif',
  'imagery/sar/S1A_GRD_uint16_gcps_cog.tif',
  'imagery/dtypes/cog_int16_utm21n.tif',
];

describeWithData('tile worker pool', FILES, (paths) => {
  it('renders the same tiles as the in-process engine, off the main thread', async () => {
    expect(pooled.mode).toBe('workers');
    for (const [k, file] of paths.entries()) {
      const facts = await pooled.register(`w${k}`, file);
      await local.register(`w${k}`, file);
      const [lon, lat] = facts.footprint ? centroid(facts.footprint) : [0, 0];
      for (const z of [8, 12, 15]) {
        const t = lngLatToTile(lon, lat, z);
        // several tiles at once: they spread across workers and come back to the right requests
        const addr = [[t.x, t.y], [t.x + 1, t.y], [t.x, t.y + 1]] as const;
        const got = await Promise.all(addr.map(([x, y]) => pooled.tile(`w${k}`, z, x, y)));
        const want = await Promise.all(addr.map(([x, y]) => local.tile(`w${k}`, z, x, y)));
        for (let i = 0; i < got.length; i++) expect(await raw(got[i]!)).toEqual(await raw(want[i]!));
      }
    }
  }, 60_000);

  it('a bad request fails with a typed error and the pool keeps serving', async () => {
    await expect(pooled.readRgb('w0', [10, 10, 5, 5], 4, 4)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const rgb = await pooled.readRgb('w0', [400, 300, 401, 301], 1, 1);
    expect(Array.from(rgb)).toEqual(gdalValues(paths[0]!, 400, 300));
  });
});

function centroid(ring: [number, number][]): [number, number] {
  const n = ring.length - 1;
  let x = 0, y = 0;
  for (let i = 0; i < n; i++) {
    x += ring[i]![0];
    y += ring[i]![1];
  }
  return [x / n, y / n];
}

async function raw(png: Uint8Array): Promise<number[]> {
  return Array.from((await sharp(png).raw().toBuffer()) as Buffer);
}

describeWithData(
  'pixel inspector agrees with GDAL',
  ['imagery/optical_utm/RGB.byte.tif', 'imagery/thermal/landsat8_B10_tirs_utm17n.TIF', 'imagery/sar/S1B_RTC_Gamma0_VV_float32_cog_nodata_nan.tif', 'imagery/dtypes/landsat7_B1_float64_equal_earth.tif'],
  ([rgb, b10, rtc, ee]) => {
    it('values (gdallocationinfo), CRS and lon/lat (gdaltransform), MGRS', async () => {
      await local.register('p-rgb', rgb!);
      for (const [x, y] of [[400, 300], [123, 456], [0, 0]] as const) {
        const p = await local.pixel('p-rgb', x + 0.7, y + 0.2);
        expect([p.x, p.y, p.inside]).toEqual([x, y, true]);
        expect(p.values).toEqual(gdalValues(rgb!, x, y));
        const crs = gdalPixelToCrs(rgb!, x + 0.5, y + 0.5);
        expect(p.crsXY![0]).toBeCloseTo(crs[0], 3);
        expect(p.crsXY![1]).toBeCloseTo(crs[1], 3);
        const ll = gdalPixelToLngLat(rgb!, x + 0.5, y + 0.5);
        expect(p.lonLat![0]).toBeCloseTo(ll[0], 7);
        expect(p.lonLat![1]).toBeCloseTo(ll[1], 7);
        // the 1 m MGRS square contains the point
        const [w, s, e, n] = mgrsInverse(p.mgrs!);
        expect(ll[0]).toBeGreaterThanOrEqual(w - 1e-9);
        expect(ll[0]).toBeLessThanOrEqual(e + 1e-9);
        expect(ll[1]).toBeGreaterThanOrEqual(s - 1e-9);
        expect(ll[1]).toBeLessThanOrEqual(n + 1e-9);
      }
      expect(await local.pixel('p-rgb', 2, 2)).toMatchObject({ values: [0, 0, 0], valid: false }); // the nodata collar
      expect((await local.pixel('p-rgb', 400, 300)).valid).toBe(true);
      expect((await local.pixel('p-rgb', -1, 5)).inside).toBe(false);
    });

    it('Landsat thermal: brightness temperature from the MTL beside the image', async () => {
      await local.register('p-b10', b10!);
      const dn = gdalValues(b10!, 100, 100)[0]!;
      const p = await local.pixel('p-b10', 100, 100);
      expect(p.values).toEqual([dn]);
      // MTL band 10: ML 3.3420E-04, AL 0.1, K1 774.8853, K2 1321.0789
      const want = 1321.0789 / Math.log(774.8853 / (3.342e-4 * dn + 0.1) + 1);
      expect(p.brightnessK).toBeCloseTo(want, 6);
      expect(p.brightnessK!).toBeGreaterThan(250);
      expect(p.brightnessK!).toBeLessThan(330);
    });

    it('float SAR with NaN nodata and a user-defined CRS', async () => {
      await local.register('p-rtc', rtc!);
      for (const [x, y] of [[274, 274], [10, 500]] as const) {
        const want = gdalValues(rtc!, x, y)[0]!;
        const got = await local.pixel('p-rtc', x, y);
        if (Number.isNaN(want)) expect(got).toMatchObject({ values: [null], valid: false });
        else expect(got.values[0]).toBeCloseTo(want, 5);
      }
      await local.register('p-ee', ee!);
      const p = await local.pixel('p-ee', 20, 30);
      expect(p.values[0]).toBeCloseTo(gdalValues(ee!, 20, 30)[0]!, 6);
      const ll = gdalPixelToLngLat(ee!, 20.5, 30.5);
      expect(p.lonLat![0]).toBeCloseTo(ll[0], 6);
      expect(p.lonLat![1]).toBeCloseTo(ll[1], 6);
    });
  },
);

