import { describe, expect, it } from 'vitest';
import { encodeRle, rasterizePolygons } from '../analysis/maskVectorizer.js';
import { polygonAreaPx } from '../analysis/polygonGeoreference.js';
import { clipRingToImage, measureMask, storedMaskOutline } from './measure.js';
import { iou, ringMask } from '../analysis/testMasks.js';

describe('storedMaskOutline', () => {
  const ring = ringMask(16, 7, 3);
  const stored = (x0: number, y0: number, mask = ring) => ({
    rle: { width: 16, height: 16, origin: [x0, y0] as [number, number], runs: encodeRle(mask) },
    // ring bounds are cells [1, 1, 15, 15); cells are 4 image pixels
    bbox: [x0 + 4, y0 + 4, x0 + 60, y0 + 60] as [number, number, number, number],
  });

  it('rebuilds the exact outline from the stored raster and its placement', () => {
    const o = storedMaskOutline(stored(100, 50), { width: 500, height: 500 });
    expect(o.placement).toEqual({ x0: 100, y0: 50, sx: 4, sy: 4 });
    expect(o.touchesEdge).toBe(false);
    expect(iou(rasterizePolygons(o.polygons, 16, 16, o.placement), ring.data)).toBe(1);
  });

  it('clips a mask hanging over the image edge and says it reaches the edge', () => {
    const o = storedMaskOutline(stored(-20, 10), { width: 500, height: 500 });
    expect(o.touchesEdge).toBe(true);
    expect(o.clippedCells).toBeGreaterThan(0);
    for (const p of o.polygons) for (const r of p) for (const [x] of r) expect(x).toBeGreaterThanOrEqual(0);
  });

  it('refuses an empty mask and one entirely outside the image with clear messages', () => {
    const empty = { ...ring, data: new Uint8Array(256) };
    expect(() => storedMaskOutline(stored(0, 0, empty), { width: 10, height: 10 }, '"dock"')).toThrow('"dock" is empty (no pixel inside): nothing to export');
    expect(() => storedMaskOutline(stored(1000, 1000), { width: 10, height: 10 })).toThrow(/entirely outside the image/);
  });
});

describe('answer boxes (a polygon object)', () => {
  const diamond: [number, number][] = [[50, -10], [110, 50], [50, 110], [-10, 50]];
  const box = (ring: [number, number][]) => {
    const N = 32;
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    const rect: [number, number, number, number] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    const data = rasterizePolygons([[[...ring, ring[0]!]]], N, N, { x0: rect[0], y0: rect[1], sx: (rect[2] - rect[0]) / N, sy: (rect[3] - rect[1]) / N });
    return { data, size: N, rect, score: 1, phrase: 'roof', regionIndex: null, polygon: [...ring, ring[0]!] };
  };

  it('keeps the exact outline clipped to the image (not the raster staircase) and the whole area as drawn', () => {
    const out = measureMask(box(diamond), { width: 100, height: 100 })!;
    const ring = out.polygons[0]![0]!;
    // the diamond's four tips are cut by the image edges: an octagon, closed
    expect(ring).toHaveLength(9);
    expect(ring[0]).toEqual(ring[8]);
    for (const [x, y] of ring) for (const v of [x, y]) expect(v >= 0 && v <= 100).toBe(true);
    expect(polygonAreaPx(out.polygons[0]!)).toBeCloseTo(7200 - 4 * 100, 9);
    expect(out.areaPx).toBeCloseTo(7200, 9);
  });

  it('clips to nothing when the box lies outside the image', () => {
    expect(clipRingToImage([[200, 200], [210, 200], [210, 210], [200, 210]], { width: 100, height: 100 })).toBeNull();
    expect(measureMask(box([[200, 200], [210, 200], [210, 210], [200, 210]]), { width: 100, height: 100 })).toBeNull();
  });
});
