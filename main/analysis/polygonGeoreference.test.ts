import { describe, expect, it } from 'vitest';
import type { PixelPolygon } from '../contract/geometry.js';
import { createPixelTransform, type XY } from '../contract/georef.js';
import { maskArea, rasterizePolygons, vectorizeMask } from './maskVectorizer.js';
import { densifyRing, PolygonGeoreferencer, type Image } from './polygonGeoreference.js';
import { isValidPolygon, simplifyPolygon } from './polygonSimplify.js';
import { cMask, iou, ringMask } from './testMasks.js';

/** RGB.byte.tif's georeferencing (UTM 18N, ~300 m pixels), as gdalinfo reports it. */
const UTM: Image = {
  name: 'RGB.byte.tif',
  width: 791,
  height: 718,
  georeferenced: true,
  geotransform: [101985.0, 300.0379266750948, 0, 2826915.0, 0, -300.0417827739559],
  gcps: null,
  crs: { epsg: 32618, name: 'WGS 84 / UTM zone 18N', proj4: '+proj=utm +zone=18 +datum=WGS84 +units=m +no_defs', wkt: null },
};
const PLACEMENT = { x0: 300.5, y0: 200.25, sx: 2, sy: 2 };

function signedArea(r: number[][]): number {
  let s = 0;
  for (let i = 0; i < r.length - 1; i++) s += r[i]![0]! * r[i + 1]![1]! - r[i + 1]![0]! * r[i]![1]!;
  return s / 2;
}

describe('PolygonGeoreferencer', () => {
  for (const [name, mask] of [['ring', ringMask(64, 28, 14)], ['C', cMask(64, 28, 12)]] as const) {
    it(`${name}-shaped mask: pixels → UTM → WGS84 → pixels rasterises back with IoU ≥ 0.99`, () => {
      const polys = vectorizeMask(mask, PLACEMENT);
      const g = new PolygonGeoreferencer(UTM).georeference(polys);
      const t = createPixelTransform(UTM);
      const back: PixelPolygon[] = g.wgs84!.map((p) => p.map((r) => r.map((ll) => t.lngLatToPixel(ll as XY))));
      const raster = rasterizePolygons(back, mask.width, mask.height, PLACEMENT);
      expect(iou(raster, mask.data)).toBeGreaterThanOrEqual(0.99);
      // RFC 7946: exterior rings counter-clockwise, holes clockwise (lon/lat, y up)
      for (const p of g.wgs84!) {
        expect(signedArea(p[0]!)).toBeGreaterThan(0);
        for (const h of p.slice(1)) expect(signedArea(h)).toBeLessThan(0);
      }
      if (name === 'ring') expect(g.wgs84![0]).toHaveLength(2);
      // geodesic area ≈ pixel area × pixel size² (UTM scale error near the central meridian is < 0.5 %)
      const px = maskArea(mask) * 4;
      expect(g.measures.areaPx).toBeCloseTo(px, 6);
      expect(g.measures.areaM2! / (px * 300.04 * 300.04)).toBeGreaterThan(0.99);
      expect(g.measures.areaM2! / (px * 300.04 * 300.04)).toBeLessThan(1.01);
      expect(g.measures.areaHa).toBeCloseTo(g.measures.areaM2! / 1e4, 6);
      expect(g.measures.perimeterM).toBeGreaterThan(0);
    });

    it(`${name}-shaped mask stays valid and close after simplification in metres`, () => {
      const polys = vectorizeMask(mask, PLACEMENT);
      const g = new PolygonGeoreferencer(UTM).georeference(polys, { simplifyM: 700 });
      for (const p of g.pixel) expect(isValidPolygon(p as [number, number][][])).toBe(true);
      expect(g.pixel[0]![0]!.length).toBeLessThan(polys[0]![0]!.length);
      const raster = rasterizePolygons(g.pixel, mask.width, mask.height, PLACEMENT);
      expect(iou(raster, mask.data)).toBeGreaterThan(0.9);
    });
  }

  it('keeps pixel coordinates and pixel area for an image without georeferencing', () => {
    const plain: Image = { ...UTM, georeferenced: false, geotransform: null, crs: null };
    const g = new PolygonGeoreferencer(plain).georeference(vectorizeMask(ringMask(32, 14, 7)));
    expect(g.wgs84).toBeNull();
    expect(g.crs).toBeNull();
    expect(g.measures.areaM2).toBeNull();
    expect(g.measures.areaPx).toBe(maskArea(ringMask(32, 14, 7)));
  });

  it('refuses outlines where a GCP model extrapolates, accepts them inside the GCPs', () => {
    // a bent swath: 3×3 GCPs over 1000×1000 px, mapped through a mildly non-linear function
    const gcps = [];
    for (const p of [0, 500, 1000]) for (const l of [0, 500, 1000]) {
      gcps.push({ pixel: p, line: l, x: 500000 + 10 * p + 0.0002 * p * l, y: 4000000 - 10 * l + 0.0003 * l * l, z: 0 });
    }
    const gcpImage: Image = { ...UTM, width: 1000, height: 1000, geotransform: null, gcps };
    const geo = new PolygonGeoreferencer(gcpImage);
    const inside = vectorizeMask(ringMask(32, 14, 7), { x0: 400, y0: 400, sx: 4, sy: 4 });
    expect(geo.georeference(inside).measures.areaM2).toBeGreaterThan(0);
    const far = vectorizeMask(ringMask(32, 14, 7), { x0: 20000, y0: 20000, sx: 40, sy: 40 });
    expect(() => geo.georeference(far, { label: '"far"' })).toThrow(/GCP model extrapolates badly/);
  });

  it('densifies long edges without moving the ends', () => {
    const r = densifyRing([[0, 0], [20, 0], [20, 3], [0, 0]], 8);
    expect(r[0]).toEqual([0, 0]);
    expect(r.at(-1)).toEqual([0, 0]);
    expect(r).toContainEqual([20, 0]);
    for (let i = 1; i < r.length; i++) expect(Math.hypot(r[i]![0] - r[i - 1]![0], r[i]![1] - r[i - 1]![1])).toBeLessThanOrEqual(8);
  });
});

describe('simplifyPolygon', () => {
  it('refuses a simplification that would let a hole cross its outer ring', () => {
    // a thin frame: the hole lies one pixel inside the outer ring, so a coarse tolerance collapses them together
    const outer: [number, number][] = [[0, 0], [40, 0], [40, 1], [41, 1], [41, 40], [0, 40], [0, 0]];
    const hole: [number, number][] = [[1, 1], [1, 39], [40, 39], [40, 2], [39, 2], [39, 1], [1, 1]];
    expect(isValidPolygon([outer, hole])).toBe(true);
    expect(simplifyPolygon([outer, hole], 0.1)).not.toBeNull();
    expect(simplifyPolygon([outer, hole], 30)).toBeNull();
  });

  it('detects a self-intersecting ring', () => {
    expect(isValidPolygon([[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]])).toBe(false);
  });
});
