import type { RegionGeometry } from '../contract/geometry.js';
import type { Rect } from './viewPlanner.js';

/** Radius in view pixels of the disc a point region becomes. */
export function pointRadius(size: number): number {
  return size / 16;
}

/**
 * Rasterises a region into an S×S mask of the global view (PACK_CONTRACT.md "Region masks").
 * The geometry is first mapped into view pixels — x' = (x − x0)·fx with fx = S/(x1 − x0), likewise y; radius and
 * scribble width scale by (fx + fy)/2 — then view pixel (i, j) (column i, row j) is inside when its centre
 * (i+0.5, j+0.5) is inside the mapped geometry. Every test is written with the same operations, in the same
 * order, as the contract's formulas (and the PyTorch reference, native-models/testpack/pipeline_reference.py), so
 * that masks are bit-identical to the reference's, boundary pixels included. A point becomes a disc of radius
 * S/16 view pixels (the radius the packs are trained with), so it is never lost at any zoom. Polygons are filled
 * even-odd (holes from self-overlap).
 */
export function rasterizeRegion(g: RegionGeometry, view: Rect, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const [vx0, vy0, vx1, vy1] = view;
  const fx = size / (vx1 - vx0);
  const fy = size / (vy1 - vy0);
  const k = (fx + fy) / 2;
  const X = (x: number) => (x - vx0) * fx;
  const Y = (y: number) => (y - vy0) * fy;
  const clampIdx = (v: number) => Math.min(size - 1, Math.max(0, v));

  /** visits the pixels whose centres may lie in the view-space bounds [x0,x1]×[y0,y1] (one pixel of slack) */
  const scan = (x0: number, y0: number, x1: number, y1: number, inside: (cx: number, cy: number) => boolean) => {
    if (x1 < -1 || y1 < -1 || x0 > size + 1 || y0 > size + 1) return;
    const i0 = clampIdx(Math.floor(x0) - 1), i1 = clampIdx(Math.ceil(x1) + 1);
    const j0 = clampIdx(Math.floor(y0) - 1), j1 = clampIdx(Math.ceil(y1) + 1);
    for (let j = j0; j <= j1; j++) {
      const cy = j + 0.5;
      for (let i = i0; i <= i1; i++) if (inside(i + 0.5, cy)) out[j * size + i] = 1;
    }
  };

  switch (g.kind) {
    case 'point': {
      const px = X(g.x), py = Y(g.y), r = pointRadius(size);
      scan(px - r, py - r, px + r, py + r, (cx, cy) => (cx - px) * (cx - px) + (cy - py) * (cy - py) <= r * r);
      break;
    }
    case 'box': {
      const bx0 = X(Math.min(g.x0, g.x1)), bx1 = X(Math.max(g.x0, g.x1));
      const by0 = Y(Math.min(g.y0, g.y1)), by1 = Y(Math.max(g.y0, g.y1));
      scan(bx0, by0, bx1, by1, (cx, cy) => cx >= bx0 && cx <= bx1 && cy >= by0 && cy <= by1);
      break;
    }
    case 'circle': {
      const px = X(g.cx), py = Y(g.cy), r = g.r * k;
      scan(px - r, py - r, px + r, py + r, (cx, cy) => (cx - px) * (cx - px) + (cy - py) * (cy - py) <= r * r);
      break;
    }
    case 'scribble': {
      const half = (g.width * k) / 2;
      const pts = g.points.map(([x, y]): [number, number] => [X(x), Y(y)]);
      // a single-point scribble is a degenerate segment: a disc of the stroke's width
      const segs: [[number, number], [number, number]][] = pts.length === 1 ? [[pts[0]!, pts[0]!]] : pts.slice(1).map((b, s) => [pts[s]!, b]);
      for (const [[ax, ay], [bx, by]] of segs) {
        const dx = bx - ax, dy = by - ay;
        const len2 = dx * dx + dy * dy;
        scan(Math.min(ax, bx) - half, Math.min(ay, by) - half, Math.max(ax, bx) + half, Math.max(ay, by) + half, (cx, cy) => {
          const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((cx - ax) * dx + (cy - ay) * dy) / len2));
          const ex = cx - (ax + t * dx), ey = cy - (ay + t * dy);
          return ex * ex + ey * ey <= half * half;
        });
      }
      break;
    }
    case 'polygon': {
      // Per row, the crossing abscissa of every edge that spans the row, with the contract's formula; a pixel is
      // inside when an odd number of crossings lie to the right of its centre. O(S·n) crossings + O(S²·c) tests.
      const pts = g.points.map(([x, y]): [number, number] => [X(x), Y(y)]);
      const n = pts.length;
      const xs: number[] = [];
      for (let j = 0; j < size; j++) {
        const cy = j + 0.5;
        xs.length = 0;
        for (let a = 0; a < n; a++) {
          const [xi, yi] = pts[a]!;
          const [xj, yj] = pts[(a + n - 1) % n]!;
          if (yi === yj) continue;
          if (yi > cy !== yj > cy) xs.push(((xj - xi) * (cy - yi)) / (yj - yi) + xi);
        }
        if (xs.length === 0) continue;
        for (let i = 0; i < size; i++) {
          const cx = i + 0.5;
          let inside = false;
          for (const xc of xs) if (cx < xc) inside = !inside;
          if (inside) out[j * size + i] = 1;
        }
      }
      break;
    }
  }
  return out;
}

/** All regions stacked [R,S,S]; one all-zero mask when there are none (the prompt stage needs R ≥ 1). */
export function rasterizeRegions(regions: RegionGeometry[], view: Rect, size: number): { data: Float32Array; count: number } {
  const count = Math.max(1, regions.length);
  const data = new Float32Array(count * size * size);
  regions.forEach((g, k) => data.set(rasterizeRegion(g, view, size), k * size * size));
  return { data, count };
}
