import { describe, expect, it } from 'vitest';
import { encodeRle, rasterizePolygons } from '../analysis/maskVectorizer.js';
import { storedMaskOutline } from './measure.js';
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
