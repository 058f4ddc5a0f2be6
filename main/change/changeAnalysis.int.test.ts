import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VantageError } from '../contract/errors.js';
import { GeoTiffSource } from '../imagery/geotiffSource.js';
import { TestTiffDir } from '../imagery/testTiff.js';
import { describeWithData } from '../testing/data.js';
import { analyzeFiles } from './changeAnalysis.js';

const NAIP_A = 'imagery/bitemporal_naip/naip_2009-08-18.tif';
const NAIP_B = 'imagery/bitemporal_naip/naip_2020-08-31.tif';

describeWithData('change analysis on the NAIP 2009/2020 pair', [NAIP_A, NAIP_B], ([fileA, fileB]) => {
  const tmp = new TestTiffDir();
  afterAll(() => tmp.remove());

  it('aligns B onto A like gdalwarp (bilinear), reports overlap and offset, finds changes with areas', async () => {
    const r = await analyzeFiles(fileA!, fileB!);
    const s = r.stats;
    expect(r.dates).toEqual(['2009-08-18', '2020-08-31']);
    expect(s.alignment.mode).toBe('georeference');
    expect(s.alignment.crs).toBe('EPSG:26914');
    expect(s.alignment.scaleBPerA).toBeCloseTo(1, 9);
    // B's origin is 1 m west and 1 m south of A's and it has one row fewer: the overlap is all of A but the last row
    expect(s.overlap.window).toEqual([0, 0, 934, 724]);
    expect(s.overlap.pctOfA).toBeGreaterThan(99);
    expect(s.overlap.pctOfB).toBeGreaterThan(99);
    expect(s.overlap.m2! / (s.overlap.px * 25)).toBeGreaterThan(0.995); // UTM scale factor near 1 here
    expect(s.overlap.m2! / (s.overlap.px * 25)).toBeLessThan(1.005);
    // the pair is co-registered by its georeference: what is left is well under a pixel
    expect(s.offset).not.toBeNull();
    expect(s.offset!.patches).toBeGreaterThanOrEqual(10);
    expect(s.offset!.spreadPx).toBeLessThan(1);
    expect(Math.abs(s.offset!.dxPx)).toBeLessThan(1);
    expect(Math.abs(s.offset!.dyPx)).toBeLessThan(1);

    // oracle: GDAL resamples B onto A's grid
    const warped = path.join(tmp.dir, 'b_on_a.tif');
    execFileSync('gdalwarp', ['-q', '-overwrite', '-r', 'bilinear', '-te', '485900', String(5209247 - 724 * 5), String(485900 + 934 * 5), '5209247', '-ts', '934', '724', fileB!, warped]);
    const src = await GeoTiffSource.open(warped);
    try {
      const g = await src.readWindow(0, [0, 0, 934, 724], [0, 1, 2, 3]);
      let n = 0, sum = 0, worst = 0;
      for (let band = 0; band < 4; band++) {
        const ours = r.resampledB.bands[band]!;
        const theirs = g.bands[band]!;
        for (let y = 2; y < 720; y++) {
          for (let x = 2; x < 932; x++) {
            const i = y * 934 + x;
            if (!r.resampledB.valid[i] || theirs[i] === 0) continue;
            const d = Math.abs(ours[i]! - theirs[i]!);
            n++;
            sum += d;
            worst = Math.max(worst, d);
          }
        }
      }
      expect(n).toBeGreaterThan(4 * 900 * 700);
      // GDAL rounds to Byte; we keep the float: differences are rounding only
      expect(sum / n).toBeLessThan(0.35);
      expect(worst).toBeLessThanOrEqual(1);
    } finally {
      await src.close();
    }

    expect(s.method).toBe('cva');
    expect(s.bandsCompared).toBe(4);
    expect(s.changedPx).toBeGreaterThan(0);
    expect(s.changedPctOfOverlap).toBeLessThan(50);
    expect(s.polygonCount).toBe(r.polygons.length);
    const sumM2 = r.polygons.reduce((t, p) => t + p.areaM2!, 0);
    expect(s.changedM2).toBeCloseTo(sumM2, 3);
    // every kept part is at least the minimum area
    for (const p of r.polygons) expect(p.areaPx).toBeGreaterThanOrEqual(s.minAreaPx);
    const maskSum = r.mask.reduce((t, v) => t + v, 0);
    expect(maskSum).toBe(s.changedPx);

    // any CRS: B reprojected by GDAL to WGS 84 / UTM 14N (another datum and grid) pairs through lon/lat and gives
    // the same picture: sub-pixel residual offset, nearly the same changed area
    const utmWgs = path.join(tmp.dir, 'b_32614.tif');
    execFileSync('gdalwarp', ['-q', '-overwrite', '-t_srs', 'EPSG:32614', '-tr', '5', '5', '-r', 'bilinear', fileB!, utmWgs]);
    const x = await analyzeFiles(fileA!, utmWgs);
    expect(x.stats.alignment.mode).toBe('georeference');
    expect(x.stats.overlap.pctOfA).toBeGreaterThan(99);
    expect(Math.hypot(x.stats.offset!.dxPx, x.stats.offset!.dyPx)).toBeLessThan(1);
    expect(Math.abs(x.stats.changedM2! / s.changedM2! - 1)).toBeLessThan(0.1);
  });
});

/** Smooth texture plus hashed noise: correlates well, and is the same function on both dates. */
function texture(x: number, y: number): number {
  const h = Math.sin(x * 12.9898 + y * 78.233) * 43758.5453;
  return Math.round(100 + 40 * Math.sin(x * 0.45) * Math.cos(y * 0.31) + 20 * (h - Math.floor(h)));
}

function grid(w: number, h: number, f: (x: number, y: number) => number): number[][] {
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => f(x, y)));
}

describe('change analysis on synthetic pairs (GDAL-written GeoTIFFs)', () => {
  const tmp = new TestTiffDir();
  afterAll(() => tmp.remove());
  const utm = ['-a_srs', 'EPSG:32633'];
  const inSquare = (x: number, y: number) => x >= 20 && x < 36 && y >= 24 && y < 40;
  // A: 64×64 px of 1 m; B: the same ground on a grid shifted by (3, 2) px, with a 16×16 m square changed
  const fileA = tmp.grid('a', grid(64, 64, texture), [...utm, '-a_ullr', '500000', '4000064', '500064', '4000000']);
  const fileB = tmp.grid('b', grid(64, 64, (x, y) => texture(x + 3, y + 2) + (inSquare(x + 3, y + 2) ? 90 : 0)), [
    ...utm, '-a_ullr', '500003', '4000062', '500067', '3999998',
  ]);

  it('detects a changed square on a different grid with IoU ≥ 0.9 and its geodesic area', async () => {
    const r = await analyzeFiles(fileA, fileB);
    const s = r.stats;
    expect(s.overlap.window).toEqual([3, 2, 64, 64]);
    expect(s.overlap.px).toBe(61 * 62);
    expect(s.offset === null || (Math.abs(s.offset.dxPx) < 0.3 && Math.abs(s.offset.dyPx) < 0.3)).toBe(true);
    const [x0, y0, x1] = s.overlap.window;
    const w = x1 - x0;
    let inter = 0, union = 0;
    r.mask.forEach((v, i) => {
      const sq = inSquare(x0 + (i % w), y0 + Math.floor(i / w));
      if (v && sq) inter++;
      if (v || sq) union++;
    });
    expect(inter / union).toBeGreaterThanOrEqual(0.9);
    expect(s.polygonCount).toBe(1);
    expect(r.polygons[0]!.areaM2).toBeGreaterThan(256 * 0.9);
    expect(r.polygons[0]!.areaM2).toBeLessThan(256 * 1.1);
  });

  it('measures a residual offset the georeference does not explain', async () => {
    // B's content is A's moved 2 px left, but B claims A's grid: the estimator must see dx ≈ −2
    const big = (f: (x: number, y: number) => number) => grid(128, 128, f);
    const ullr = ['-a_ullr', '500000', '4000128', '500128', '4000000'];
    const a = tmp.grid('oa', big(texture), [...utm, ...ullr]);
    const b = tmp.grid('ob', big((x, y) => texture(x + 2, y)), [...utm, ...ullr]);
    const r = await analyzeFiles(a, b);
    expect(r.stats.offset).not.toBeNull();
    expect(r.stats.offset!.dxPx).toBeCloseTo(-2, 1);
    expect(r.stats.offset!.dyPx).toBeCloseTo(0, 1);
    expect(r.stats.offset!.dxM).toBeCloseTo(-2, 1);
  });

  it('aligns a pair without georeference by tie points', async () => {
    const a = tmp.grid('ta', grid(64, 64, texture), []);
    const b = tmp.grid('tb', grid(64, 64, (x, y) => texture(x + 3, y + 2) + (inSquare(x + 3, y + 2) ? 90 : 0)), []);
    const ties = [
      { a: [10, 10] as [number, number], b: [7, 8] as [number, number] },
      { a: [60, 12] as [number, number], b: [57, 10] as [number, number] },
      { a: [30, 60] as [number, number], b: [27, 58] as [number, number] },
    ];
    // the original detector keeps the square's exact pixels (cva-matched's 3×3 smoothing rounds its corners): this
    // test is about the alignment, so it counts pixels with the detector that preserves them
    const r = await analyzeFiles(a, b, { tiePoints: ties, detector: 'cva-otsu' });
    expect(r.stats.alignment.mode).toBe('tie-points');
    expect(r.stats.alignment.tieRmsPx).toBeLessThan(1e-6);
    expect(r.stats.changedM2).toBeNull();
    expect(r.stats.polygonCount).toBe(1);
    expect(r.polygons[0]!.areaPx).toBe(256);
    // a georeferenced A keeps areas in m² even when B is placed by tie points
    const g = await analyzeFiles(fileA, b, { tiePoints: ties, detector: 'cva-otsu' });
    expect(g.stats.alignment.mode).toBe('tie-points');
    expect(g.polygons[0]!.areaM2).toBeCloseTo(256, 0);
  });

  const rejects = async (p: Promise<unknown>, pattern: RegExp) => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(VantageError);
    expect((err as VantageError).message).toMatch(pattern);
  };

  it('refuses pairs that do not overlap, lack georeference or differ wildly in resolution', async () => {
    const far = tmp.grid('far', grid(64, 64, texture), [...utm, '-a_ullr', '600000', '4000064', '600064', '4000000']);
    await rejects(analyzeFiles(fileA, far), /do not overlap/);
    const plain = tmp.grid('plain', grid(64, 64, texture), []);
    await rejects(analyzeFiles(fileA, plain), /plain\.tif .*cannot be aligned by georeference; give at least 3 tie points/);
    const coarse = tmp.grid('coarse', grid(64, 64, texture), [...utm, '-a_ullr', '500000', '4000640', '500640', '4000000']);
    await rejects(analyzeFiles(fileA, coarse), /resolutions differ 10\.0×/);
    await rejects(analyzeFiles(plain, plain, { tiePoints: [{ a: [0, 0], b: [0, 0] }, { a: [1, 1], b: [1, 1] }] }), /at least 3 tie points/);
  });
});
