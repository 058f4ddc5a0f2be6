import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createPixelTransform, type XY } from '../contract/georef.js';
import { ImageInfo } from '../contract/schemas.js';
import { dataPath, describeWithData } from '../testing/data.js';
import { inspectImage } from './imageFacts.js';
import { gdalInfoJson } from './testTiff.js';

/**
 * Files whose facts do not (yet) agree with gdalinfo, and why. Each entry names the fact it excuses; every other
 * fact of that file is still checked.
 */
const KNOWN_GAPS: Record<string, { facts: string[]; reason: string }> = {
  'crs_edge/goes.tif': {
    facts: ['footprint'],
    reason: 'the geostationary disk corners are off the Earth (gdalinfo has no wgs84Extent either): footprint falls back to the lon/lat box of the pixels that project',
  },
};

function tiffs(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return tiffs(p);
    return /\.tiff?$/i.test(n) ? [p] : [];
  });
}

interface GdalBand { type: string; noDataValue?: number | string; overviews?: unknown[] }
interface GdalInfo {
  size: [number, number];
  bands: GdalBand[];
  geoTransform?: number[];
  coordinateSystem?: { wkt: string };
  gcps?: { gcpList: { pixel: number; line: number; x: number; y: number; z: number }[] };
  cornerCoordinates?: Record<string, [number, number]>;
  wgs84Extent?: { coordinates: number[][][] };
}

function epsgOfWkt(wkt: string | undefined): number | null {
  const m = wkt ? /ID\["EPSG",(\d+)\]\]\s*$/.exec(wkt) : null;
  return m ? Number(m[1]) : null;
}

const root = dataPath('imagery');

describeWithData('image facts agree with gdalinfo on every GeoTIFF', ['imagery'], () => {
  const files = root ? tiffs(root).sort() : [];

  it('finds the test GeoTIFFs', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of files) {
    const rel = path.relative(root!, file).split(path.sep).join('/');
    const gap = KNOWN_GAPS[rel];
    const checks = (fact: string): boolean => !gap?.facts.includes(fact);

    it(`${rel}`, async () => {
      const facts = await inspectImage(file);
      const g = gdalInfoJson(file) as unknown as GdalInfo;
      expect(() => ImageInfo.parse({ id: 'x', ...facts })).not.toThrow();
      expect([facts.width, facts.height]).toEqual(g.size);
      expect(facts.bandCount).toBe(g.bands.length);
      expect(facts.dtype).toBe(g.bands[0]!.type);
      const nd = g.bands[0]!.noDataValue;
      expect(facts.nodata).toBe(typeof nd === 'number' ? nd : null); // "nan" is reported as null (not JSON)
      expect(facts.overviewCount).toBe(g.bands[0]!.overviews?.length ?? 0);
      expect(facts.crs?.epsg ?? null).toBe(epsgOfWkt(g.coordinateSystem?.wkt ?? (g.gcps as { coordinateSystem?: { wkt: string } } | undefined)?.coordinateSystem?.wkt));
      expect(facts.sha256).toMatch(/^[0-9a-f]{64}$/);

      if (g.geoTransform) {
        expect(facts.geotransform).not.toBeNull();
        facts.geotransform!.forEach((v, i) => expect(v).toBeCloseTo(g.geoTransform![i]!, 6));
        expect(facts.georeferenced).toBe(true);
        const t = createPixelTransform(facts);
        const [w, h] = g.size;
        const corners: [string, XY][] = [['upperLeft', [0, 0]], ['lowerLeft', [0, h]], ['lowerRight', [w, h]], ['upperRight', [w, 0]]];
        for (const [name, px] of corners) {
          const c = t.pixelToCrs(px);
          const o = g.cornerCoordinates![name]!;
          // gdalinfo prints corner coordinates rounded to 3 decimals
          expect(Math.abs(c[0] - o[0])).toBeLessThan(Math.max(1e-3, Math.abs(facts.geotransform![1]!) * 0.5));
          expect(Math.abs(c[1] - o[1])).toBeLessThan(Math.max(1e-3, Math.abs(facts.geotransform![5]!) * 0.5));
        }
        const ring = g.wgs84Extent?.coordinates[0] ?? [];
        if (checks('footprint') && ring.length >= 4) {
          expect(facts.footprint).not.toBeNull();
          // gdal's ring is UL, LL, LR, UR; ours starts UL and runs UR, LR, LL (8 points per side)
          const ours = { UL: facts.footprint![0]!, UR: facts.footprint![8]!, LR: facts.footprint![16]!, LL: facts.footprint![24]! };
          const theirs = { UL: ring[0]!, LL: ring[1]!, LR: ring[2]!, UR: ring[3]! };
          for (const k of ['UL', 'UR', 'LR', 'LL'] as const) {
            const a = t.lngLatToPixel(ours[k]);
            const b = t.lngLatToPixel(theirs[k] as XY);
            expect(Math.hypot(a[0] - b[0], a[1] - b[1]), `${k} corner within 0.5 px`).toBeLessThan(0.5);
          }
        }
      } else if (g.gcps) {
        const list = g.gcps.gcpList;
        expect(facts.geotransform).toBeNull();
        expect(facts.gcps?.length).toBe(list.length);
        facts.gcps!.forEach((p, i) => {
          expect(p.pixel).toBeCloseTo(list[i]!.pixel, 6);
          expect(p.line).toBeCloseTo(list[i]!.line, 6);
          expect(p.x).toBeCloseTo(list[i]!.x, 9);
          expect(p.y).toBeCloseTo(list[i]!.y, 9);
        });
        expect(facts.georeferenced).toBe(true);
        // oracle: gdaltransform through the same GCPs (GDAL picks the polynomial order from the GCP count)
        const t = createPixelTransform(facts);
        const [w, h] = g.size;
        const corners: XY[] = [[0, 0], [w, 0], [w, h], [0, h], [w / 2, h / 2]];
        const out = execFileSync('gdaltransform', ['-output_xy', file], {
          input: corners.map((c) => c.join(' ')).join('\n') + '\n',
          encoding: 'utf8',
        });
        const theirs = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as XY);
        corners.forEach((c, i) => {
          // forward: our lon/lat vs GDAL's, measured in local pixel sizes
          const ll = t.pixelToLngLat(c);
          const dx = t.pixelToLngLat([c[0] + 1, c[1]]);
          const dy = t.pixelToLngLat([c[0], c[1] + 1]);
          const det = (dx[0] - ll[0]) * (dy[1] - ll[1]) - (dx[1] - ll[1]) * (dy[0] - ll[0]);
          const ex = theirs[i]![0] - ll[0];
          const ey = theirs[i]![1] - ll[1];
          const pxErr: XY = [(ex * (dy[1] - ll[1]) - ey * (dy[0] - ll[0])) / det, ((dx[0] - ll[0]) * ey - (dx[1] - ll[1]) * ex) / det];
          expect(Math.hypot(...pxErr), `corner ${c}: forward within 0.5 px of gdaltransform`).toBeLessThan(0.5);
        });
        // reverse: GDAL's lon/lat → pixel (gdaltransform -i) vs ours
        const inv = execFileSync('gdaltransform', ['-i', '-output_xy', file], {
          input: theirs.map((c) => c.join(' ')).join('\n') + '\n',
          encoding: 'utf8',
        });
        inv.trim().split('\n').forEach((l, i) => {
          const g2 = l.trim().split(/\s+/).map(Number) as XY;
          const o = t.lngLatToPixel(theirs[i]!);
          expect(Math.hypot(o[0] - g2[0], o[1] - g2[1]), `reverse ${i} within 0.5 px of gdaltransform -i`).toBeLessThan(0.5);
        });
        if (checks('footprint')) {
          expect(facts.footprint).not.toBeNull();
          const ours = [facts.footprint![0]!, facts.footprint![8]!, facts.footprint![16]!, facts.footprint![24]!];
          ours.forEach((ll, i) => {
            expect(Math.abs(ll[0] - theirs[i]![0])).toBeLessThan(1e-4);
            expect(Math.abs(ll[1] - theirs[i]![1])).toBeLessThan(1e-4);
          });
        }
      } else {
        expect(facts.georeferenced).toBe(false);
      }
    });
  }

  it('plain JPEG frames open as non-georeferenced single-band images', async () => {
    const jpg = path.join(root!, 'thermal_ir_uav', '0_60_30_0_01614.jpg');
    const facts = await inspectImage(jpg);
    const g = gdalInfoJson(jpg) as unknown as GdalInfo;
    expect([facts.width, facts.height, facts.bandCount, facts.dtype]).toEqual([...g.size, g.bands.length, g.bands[0]!.type]);
    expect(facts).toMatchObject({ georeferenced: false, footprint: null, crs: null, source: 'infrared' });
    // gdalinfo lists 2 "overviews" for JPEGs: its decoder's DCT downscaling, not stored images; we report 0
    expect(facts.overviewCount).toBe(0);
  });

  it('source heuristic: SAR, thermal and optical files', async () => {
    const src = async (rel: string): Promise<string> => (await inspectImage(path.join(root!, rel))).source;
    expect(await src('sar/S1B_RTC_Gamma0_VV_float32_cog_nodata_nan.tif')).toBe('sar');
    expect(await src('sar/S1A_SLC_cint16_gcps.tif')).toBe('sar');
    expect(await src('thermal/landsat8_B10_tirs_utm17n.TIF')).toBe('infrared');
    expect(await src('thermal/landsat8_B4_red_utm17n.TIF')).toBe('optical');
    expect(await src('optical_utm/RGB.byte.tif')).toBe('optical');
  });

  it('reports the sha256 the manifest lists', async () => {
    const facts = await inspectImage(path.join(root!, 'optical_utm', 'RGB.byte.tif'));
    expect(facts.sha256).toBe('d7cbe932c7ed74a627706a9e9df99f706df3e5abc7d45a49e9d00677a6b09eb4');
  });
});
