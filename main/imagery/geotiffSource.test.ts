import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { VantageError } from '../contract/errors.js';
import { GeoTiffSource } from './geotiffSource.js';
import { gdalInfoJson, TestTiffDir } from './testTiff.js';

const tmp = new TestTiffDir();
afterAll(() => tmp.remove());

const ROWS = [
  [1, 2, 3, 4],
  [5, 6, 7, 8],
  [9, 10, 11, 0],
];

async function expectBadInput(p: Promise<unknown>, msg: RegExp): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(VantageError);
  expect((e as VantageError).code).toBe('BAD_INPUT');
  expect((e as VantageError).message).toMatch(msg);
}

describe('GeoTiffSource', () => {
  it('reads size, dtype, nodata, CRS and a PixelIsArea geotransform as GDAL does', async () => {
    const f = tmp.grid('area', ROWS, ['-ot', 'UInt16', '-a_srs', 'EPSG:32618', '-a_ullr', '500000', '4000030', '500040', '4000000', '-a_nodata', '0']);
    const s = await GeoTiffSource.open(f);
    try {
      expect(s.facts).toMatchObject({ width: 4, height: 3, bandCount: 1, dtype: 'UInt16', nodata: 0, overviewCount: 0 });
      expect(s.facts.geotransform).toEqual([500000, 10, 0, 4000030, 0, -10]);
      expect(s.facts.crs?.epsg).toBe(32618);
      expect(s.facts.crs?.proj4).toContain('+proj=utm +zone=18');
      const w = await s.readWindow(0, [1, 1, 4, 3], [0]);
      expect(Array.from(w.bands[0]!)).toEqual([6, 7, 8, 10, 11, 0]);
    } finally {
      await s.close();
    }
  });

  it('shifts PixelIsPoint tiepoints by half a pixel, matching gdalinfo', async () => {
    const f = tmp.grid('point', ROWS, ['-ot', 'Int16', '-a_srs', 'EPSG:4326', '-a_ullr', '10', '50', '14', '47', '-mo', 'AREA_OR_POINT=Point']);
    const s = await GeoTiffSource.open(f);
    try {
      expect(s.facts.dtype).toBe('Int16');
      expect(s.facts.crs?.epsg).toBe(4326);
      const oracle = gdalInfoJson(f).geoTransform as number[];
      s.facts.geotransform!.forEach((v, i) => expect(v).toBeCloseTo(oracle[i]!, 9));
    } finally {
      await s.close();
    }
  });

  it('counts internal overviews and reads them', async () => {
    const rows = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => x + y));
    const f = tmp.grid('ovr', rows, ['-ot', 'Float32', '-a_srs', 'EPSG:3857', '-a_ullr', '0', '640', '640', '0', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=16', '-co', 'BLOCKYSIZE=16']);
    const { execFileSync } = await import('node:child_process');
    execFileSync('gdaladdo', ['-q', '-r', 'nearest', f, '2', '4']);
    const s = await GeoTiffSource.open(f);
    try {
      expect(s.facts.overviewCount).toBe(2);
      expect(s.levels.map((l) => [l.width, l.scaleX])).toEqual([[64, 1], [32, 2], [16, 4]]);
      expect(s.facts.dtype).toBe('Float32');
      const w = await s.readWindow(2, [0, 0, 16, 16], [0]);
      expect(w.bands[0]!.length).toBe(256);
    } finally {
      await s.close();
    }
  });

  it('rejects an empty file, a non-TIFF and a truncated TIFF with specific BAD_INPUT messages', async () => {
    await expectBadInput(GeoTiffSource.open(tmp.file('empty.tif', '')), /empty \(0 bytes\)/);
    await expectBadInput(GeoTiffSource.open(tmp.file('text.tif', 'hello, not a tiff')), /not a TIFF/);
    const good = tmp.grid('whole', ROWS, ['-ot', 'Float64', '-a_srs', 'EPSG:32618', '-a_ullr', '0', '3', '4', '0']);
    const bytes = readFileSync(good);
    // GDAL writes pixel data after the IFD for small files; cutting the tail truncates the strips
    await expectBadInput(GeoTiffSource.open(tmp.file('cut.tif', bytes.subarray(0, bytes.length - 40))), /truncated|corrupt/);
    await expectBadInput(GeoTiffSource.open(tmp.file('head.tif', bytes.subarray(0, 12))), /corrupt|truncated/);
  });
});
