import { describe, expect, it } from 'vitest';
import { decodeRle, encodeRle, rasterizePolygons, vectorizeMask, type BinaryMask } from './maskVectorizer.js';

function fromRows(rows: string[]): BinaryMask {
  const height = rows.length;
  const width = rows[0]!.length;
  const data = new Uint8Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { width, height, data };
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, uni = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) uni++;
  }
  return uni === 0 ? 1 : inter / uni;
}

describe('vectorizeMask', () => {
  it('traces a single pixel as a closed 4-vertex square', () => {
    const polys = vectorizeMask(fromRows(['#']));
    expect(polys).toEqual([[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]]);
  });

  it('keeps holes of a ring-shaped mask and rasterises back exactly', () => {
    const m = fromRows(['#####', '#...#', '#...#', '#####']);
    const polys = vectorizeMask(m);
    expect(polys).toHaveLength(1);
    expect(polys[0]).toHaveLength(2); // outer + hole
    expect(iou(rasterizePolygons(polys, m.width, m.height), m.data)).toBe(1);
  });

  it('separates cells touching only at a corner (4-connectivity) and handles C shapes', () => {
    const diag = fromRows(['#.', '.#']);
    expect(vectorizeMask(diag)).toHaveLength(2);
    const c = fromRows(['####', '#...', '#...', '####']);
    const polys = vectorizeMask(c);
    expect(polys).toHaveLength(1);
    expect(polys[0]).toHaveLength(1);
    expect(iou(rasterizePolygons(polys, c.width, c.height), c.data)).toBe(1);
  });

  it('round-trips random masks with IoU 1 and maps vertices through the placement', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let t = 0; t < 20; t++) {
      const w = 12, h = 9;
      const data = new Uint8Array(w * h).map(() => (rnd() < 0.45 ? 1 : 0));
      const m = { width: w, height: h, data };
      const placement = { x0: 100, y0: 50, sx: 2.5, sy: 4 };
      const polys = vectorizeMask(m, placement);
      expect(iou(rasterizePolygons(polys, w, h, placement), data)).toBe(1);
    }
  });

  it('RLE round-trips', () => {
    const m = fromRows(['.##.', '####', '....']);
    const runs = encodeRle(m);
    expect(runs).toEqual([1, 2, 1, 4, 4]);
    expect(decodeRle(runs, 4, 3).data).toEqual(m.data);
  });
});
