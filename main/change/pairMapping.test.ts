import { describe, expect, it } from 'vitest';
import { VantageError } from '../contract/errors.js';
import { createPixelTransform } from '../contract/georef.js';
import { dateFromName } from './changeAnalysis.js';
import { fitTieAffine, mapWindowCentres, pairMapping, scaleAt, type PairSide } from './pairMapping.js';

const utm33 = '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs';
const side = (name: string, gt: number[] | null, proj4: string | null, w = 100, h = 100): PairSide => ({
  name,
  width: w,
  height: h,
  transform: gt && proj4 ? createPixelTransform({ geotransform: gt, crs: { epsg: null, name: null, proj4, wkt: null }, width: w, height: h }) : null,
  transformError: null,
  proj4,
  affine: true,
});

describe('pairing', () => {
  it('composes one exact affine for two grids in the same CRS', () => {
    const a = side('a', [500000, 5, 0, 4000000, 0, -5], utm33);
    const b = side('b', [499999, 2.5, 0, 3999999, 0, -2.5], utm33);
    const m = pairMapping(a, b, null);
    expect(m.affine).not.toBeNull();
    const [u, v] = m.aToB([10, 20]);
    expect(u).toBeCloseTo((500000 + 50 - 499999) / 2.5, 9);
    expect(v).toBeCloseTo((3999999 - (4000000 - 100)) / 2.5, 9);
    expect(scaleAt(m, [50, 50])).toBeCloseTo(2, 9);
    const back = m.bToA(m.aToB([33.3, 44.4]));
    expect(back[0]).toBeCloseTo(33.3, 9);
  });

  it('reprojects through WGS84 across CRSs; the lattice interpolation stays within 0.01 px of the exact mapping', () => {
    const a = side('a', [500000, 10, 0, 4000000, 0, -10], utm33, 200, 200);
    const b = side('b', [12, 0.0001, 0, 36.15, 0, -0.0001], '+proj=longlat +datum=WGS84 +no_defs', 300, 300);
    const m = pairMapping(a, b, null);
    expect(m.affine).toBeNull();
    const { u, v } = mapWindowCentres(m, [5, 7, 60, 50]);
    for (const [i, j] of [[0, 0], [54, 42], [17, 31]] as const) {
      const exact = m.aToB([5 + i + 0.5, 7 + j + 0.5]);
      expect(Math.abs(u[j * 55 + i]! - exact[0])).toBeLessThan(0.01);
      expect(Math.abs(v[j * 55 + i]! - exact[1])).toBeLessThan(0.01);
    }
  });

  it('asks for tie points when a side has no georeference', () => {
    const a = side('a.tif', [500000, 5, 0, 4000000, 0, -5], utm33);
    const b = side('photo.jpg', null, null);
    expect(() => pairMapping(a, b, null)).toThrow(VantageError);
    expect(() => pairMapping(a, b, null)).toThrow(/photo\.jpg is not georeferenced: .*at least 3 tie points/);
  });

  it('pairs two images without georeference pixel for pixel when they share one grid, and says why not otherwise', () => {
    const m = pairMapping(side('A.png', null, null, 256, 256), side('B.png', null, null, 256, 256), null);
    expect(m.mode).toBe('same-grid');
    expect(m.aToB([10.5, 20.25])).toEqual([10.5, 20.25]);
    expect(mapWindowCentres(m, [2, 3, 4, 4]).u).toEqual(Float64Array.from([2.5, 3.5]));
    expect(() => pairMapping(side('A.png', null, null, 256, 256), side('B.png', null, null, 256, 200), null)).toThrow(
      /A\.png is not georeferenced and B\.png is not georeferenced and their sizes differ \(256×256 vs 256×200\).*at least 3 tie points/,
    );
  });

  it('fits tie points exactly for an affine pair and refuses collinear ones', () => {
    const f = (x: number, y: number): [number, number] => [3 + 0.5 * x - 0.1 * y, -2 + 0.1 * x + 0.5 * y];
    const ties = [[0, 0], [100, 0], [0, 80], [60, 60]].map(([x, y]) => ({ a: [x, y] as [number, number], b: f(x!, y!) }));
    const { affine, rmsPx } = fitTieAffine(ties);
    expect(rmsPx).toBeLessThan(1e-9);
    expect(affine[1]).toBeCloseTo(0.5, 9);
    expect(affine[2]).toBeCloseTo(-0.1, 9);
    const line = [0, 1, 2].map((k) => ({ a: [k * 10, k * 10] as [number, number], b: [k, k] as [number, number] }));
    expect(() => fitTieAffine(line)).toThrow(/collinear/);
  });
});

it('reads acquisition dates from file names', () => {
  expect(dateFromName('/x/naip_2009-08-18.tif')).toBe('2009-08-18');
  expect(dateFromName('m_4709963_se_14_1_20200831.tif')).toBe('2020-08-31');
  expect(dateFromName('scene.tif')).toBeNull();
});
