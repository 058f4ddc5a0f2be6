import type { TiePoint } from '../contract/calls/change.js';
import { VantageError } from '../contract/errors.js';
import { LruCache } from '../imagery/lruCache.js';
import { OpenImage } from '../imagery/openImage.js';
import type { WindowData } from '../imagery/rasterSource.js';
import { sideOf } from './changeAnalysis.js';
import { pairMapping } from './pairMapping.js';

export type Rect = [number, number, number, number];

/** Points along a rect's edges (n per side): the mapped outline of a view, robust to rotation and skew. */
function outline([x0, y0, x1, y1]: Rect, n = 8): [number, number][] {
  const pts: [number, number][] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    pts.push([x0 + t * (x1 - x0), y0], [x0 + t * (x1 - x0), y1], [x0, y0 + t * (y1 - y0)], [x1, y0 + t * (y1 - y0)]);
  }
  return pts;
}

/**
 * For each view rect on image A's grid, the rect of image B holding the same ground (A's rect mapped through the
 * pair mapping — georeference or tie points — and bounded, clipped to B). Reading B's pixels for these rects at the
 * view size renders B's views on A's grid: the bitemporal mode's "same rects after alignment". For the pairs the
 * change analysis accepts (same or near-axis-aligned grids) the bounding rect is the mapped rect; a rotated B would
 * add a sliver of extra ground at the corners, which the view resize keeps.
 */
export async function rectsOnB(fileA: string, fileB: string, rectsA: Rect[], ties: TiePoint[] | null): Promise<Rect[]> {
  const cache = new LruCache<WindowData>(16 * 1024 * 1024);
  const a = await OpenImage.open(fileA, cache);
  try {
    const b = await OpenImage.open(fileB, cache);
    try {
      const sb = sideOf(b);
      const m = pairMapping(sideOf(a), sb, ties);
      return rectsA.map((r) => {
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (const p of outline(r)) {
          const [x, y] = m.aToB(p);
          if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
          x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
        // whole pixels: the imagery engine reads pixel windows
        const c: Rect = [Math.max(0, Math.floor(x0)), Math.max(0, Math.floor(y0)), Math.min(sb.width, Math.ceil(x1)), Math.min(sb.height, Math.ceil(y1))];
        if (!(c[2] - c[0] >= 1 && c[3] - c[1] >= 1)) {
          throw new VantageError('BAD_INPUT', `the view ${r.join(',')} of image A has no ground in common with ${sb.name}; the two images do not overlap there`);
        }
        return c;
      });
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}
