import { describe, expect, it } from 'vitest';
import { pointsBounds, RegionGeometry } from '../../../main/contract/geometry.js';
import { imageProjection, pixelProjection, type LatLngTuple } from './imageProjection.js';
import { regionShape, toRegionGeometry } from './regionGeometry.js';

// A 1000×800 UTM 33N image with 10 m pixels; its footprint is left to the projection to compute.
const utmInfo = {
  width: 1000,
  height: 800,
  georeferenced: true,
  footprint: null,
  geotransform: [500000, 10, 0, 5000000, 0, -10],
  crs: { epsg: 32633, name: 'WGS 84 / UTM zone 33N', proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs', wkt: null },
};

describe('toRegionGeometry (pixel space)', () => {
  const proj = pixelProjection(2000, 1000); // maxZoom 3: one map unit = 8 px
  const ll = (x: number, y: number): LatLngTuple => proj.toLatLng([x, y]);

  it('turns a drag from bottom-right to top-left into a normalised box in image pixels', () => {
    const g = toRegionGeometry({ kind: 'box', from: ll(300, 400), to: ll(100, 50) }, proj);
    expect(g).toEqual({ kind: 'box', x0: 100, y0: 50, x1: 300, y1: 400 });
    expect(RegionGeometry.safeParse(g).success).toBe(true);
  });

  it('maps the map origin to the top-left pixel corner with y growing downwards', () => {
    expect(toRegionGeometry({ kind: 'point', at: [0, 0] }, proj)).toEqual({ kind: 'point', x: 0, y: 0 });
    expect(toRegionGeometry({ kind: 'point', at: [-10, 5] }, proj)).toEqual({ kind: 'point', x: 40, y: 80 });
  });

  it('measures a circle radius in pixels from centre to the release point', () => {
    expect(toRegionGeometry({ kind: 'circle', centre: ll(500, 500), edge: ll(530, 540) }, proj)).toEqual({
      kind: 'circle', cx: 500, cy: 500, r: 50,
    });
  });

  it('rejects shapes too small to mean anything', () => {
    expect(toRegionGeometry({ kind: 'box', from: ll(10, 10), to: ll(10.2, 40) }, proj)).toBeNull();
    expect(toRegionGeometry({ kind: 'circle', centre: ll(5, 5), edge: ll(5, 5) }, proj)).toBeNull();
    expect(toRegionGeometry({ kind: 'polygon', points: [ll(0, 0), ll(10, 10)] }, proj)).toBeNull();
    expect(toRegionGeometry({ kind: 'scribble', points: [ll(3, 3), ll(3.1, 3.1)] }, proj)).toBeNull();
  });

  it('drops the duplicate vertex a double-click adds and the closing vertex of a polygon', () => {
    const g = toRegionGeometry({ kind: 'polygon', points: [ll(0, 0), ll(100, 0), ll(100, 100), ll(100, 100), ll(0, 0)] }, proj);
    expect(g).toEqual({ kind: 'polygon', points: [[0, 0], [100, 0], [100, 100]] });
  });

  it('simplifies a densely drawn polygon and scribble to half a pixel: the shape is kept, an ask of 8 of them stays small', () => {
    // 200,000 vertices on a 900×400 px ellipse, and a 200,000-point scribble along a sine: far more than the views hold
    const n = 200_000;
    const ellipse = Array.from({ length: n }, (_, k) => ll(1000 + 450 * Math.cos((2 * Math.PI * k) / n), 500 + 200 * Math.sin((2 * Math.PI * k) / n)));
    const g = toRegionGeometry({ kind: 'polygon', points: ellipse }, proj);
    expect(g?.kind).toBe('polygon');
    if (g?.kind !== 'polygon') return;
    expect(RegionGeometry.safeParse(g).success).toBe(true);
    expect(g.points.length).toBeLessThan(1000);
    // the whole outline is there (not its first vertices only), every kept vertex on it to 0.01 px
    expect(pointsBounds(g.points).map(Math.round)).toEqual([550, 300, 1450, 700]);
    for (const [x, y] of g.points) expect(Math.abs(Math.hypot((x - 1000) / 450, (y - 500) / 200) - 1)).toBeLessThan(0.001);
    const wave = Array.from({ length: n }, (_, k) => ll(100 + (k * 1800) / n, 500 + 300 * Math.sin(k / 5000)));
    const s = toRegionGeometry({ kind: 'scribble', points: wave }, proj);
    expect(s?.kind === 'scribble' && s.points.length).toBeLessThan(2000);
    if (s?.kind !== 'scribble') return;
    expect(s.points[0]).toEqual([100, 500]);
    const [ex, ey] = s.points[s.points.length - 1]!; // the stroke still ends where it was released (to a pixel)
    expect(Math.hypot(ex - (100 + ((n - 1) * 1800) / n), ey - (500 + 300 * Math.sin((n - 1) / 5000)))).toBeLessThan(0.75);
    // 8 such regions in one chat.ask: a few tens of kB on the socket, not megabytes
    expect(JSON.stringify({ regions: Array.from({ length: 8 }, () => g) }).length).toBeLessThan(200_000);
  });

  it('keeps a scribble as a pixel polyline with a width', () => {
    const g = toRegionGeometry({ kind: 'scribble', points: [ll(0, 0), ll(10, 0), ll(10, 0), ll(20, 5)] }, proj);
    expect(g).toEqual({ kind: 'scribble', points: [[0, 0], [10, 0], [20, 5]], width: 8 });
    expect(RegionGeometry.safeParse(g).success).toBe(true);
  });
});

describe('toRegionGeometry (georeferenced)', () => {
  const proj = imageProjection(utmInfo);

  it('places the image on Web Mercator and round-trips pixels through lon/lat', () => {
    expect(proj.placement).toBe('geo');
    for (const p of [[0, 0], [999, 0], [500.5, 400.25], [1000, 800]] as [number, number][]) {
      const back = proj.toPixel(proj.toLatLng(p));
      expect(back[0]).toBeCloseTo(p[0], 4);
      expect(back[1]).toBeCloseTo(p[1], 4);
    }
    // 10 m pixels at ~45°N: zoom 14 has ~6.7 m tile pixels, zoom 13 ~13.5 m
    expect(proj.maxNativeZoom).toBe(14);
  });

  it('converts a box drawn on the map to the pixel bbox of its corners', () => {
    const g = toRegionGeometry({ kind: 'box', from: proj.toLatLng([200, 300]), to: proj.toLatLng([400, 100]) }, proj);
    expect(g?.kind).toBe('box');
    if (g?.kind !== 'box') return;
    // a map-space rectangle is slightly skewed in UTM pixels: its bbox contains the drawn corners, within a pixel
    expect(g.x0).toBeLessThanOrEqual(200.01);
    expect(g.x0).toBeGreaterThan(198);
    expect(g.y0).toBeLessThanOrEqual(100.01);
    expect(g.y0).toBeGreaterThan(98);
    expect(g.x1).toBeGreaterThanOrEqual(399.99);
    expect(g.x1).toBeLessThan(402);
    expect(g.y1).toBeGreaterThanOrEqual(299.99);
    expect(g.y1).toBeLessThan(302);
  });

  it('falls back to pixel space when the CRS cannot be used', () => {
    const p = imageProjection({ ...utmInfo, crs: { epsg: null, name: null, proj4: null, wkt: null } });
    expect(p.placement).toBe('pixel');
  });
});

describe('regionShape', () => {
  const proj = pixelProjection(512, 512);
  it('draws back exactly the pixel geometry that was sent', () => {
    const s = regionShape({ kind: 'circle', cx: 100, cy: 100, r: 20 }, proj);
    expect(s.kind).toBe('polygon');
    if (s.kind !== 'polygon') return;
    for (const ll of s.rings[0]!) {
      const [x, y] = proj.toPixel(ll);
      expect(Math.hypot(x - 100, y - 100)).toBeCloseTo(20, 6);
    }
    const b = regionShape({ kind: 'box', x0: 10, y0: 20, x1: 30, y1: 40 }, proj);
    expect(b.kind === 'polygon' && b.rings[0]!.map((ll) => proj.toPixel(ll))).toContainEqual([30, 40]);
  });
});
