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
      // Each edge crosses the rows whose centre line cy lies in [min(yi, yj), max(yi, yj)); its crossing abscissa
      // uses the contract's formula, and a pixel is inside when an odd number of crossings lie right of its centre.
      // A crossing xc flips the first k(xc) pixels of its row (those with centre < xc): flips are counted per
      // (row, k) and summed from the right, so the fill costs O(n + crossings + S²) — a 250,000-vertex outline
      // included — and no per-pixel loop over the crossings.
      const n = g.points.length;
      const px = new Float64Array(n), py = new Float64Array(n);
      g.points.forEach(([x, y], a) => {
        px[a] = X(x);
        py[a] = Y(y);
      });
      const stride = size + 1;
      const flips = new Uint8Array(size * stride);
      for (let a = 0; a < n; a++) {
        const b = a === 0 ? n - 1 : a - 1;
        const xi = px[a]!, yi = py[a]!, xj = px[b]!, yj = py[b]!;
        if (yi === yj) continue;
        // candidate rows, one of slack each side; the exact test below decides
        const j0 = Math.max(0, Math.floor(Math.min(yi, yj) - 0.5));
        const j1 = Math.min(size - 1, Math.ceil(Math.max(yi, yj) - 0.5));
        for (let j = j0; j <= j1; j++) {
          const cy = j + 0.5;
          if (yi > cy === yj > cy) continue;
          const xc = ((xj - xi) * (cy - yi)) / (yj - yi) + xi;
          if (Number.isNaN(xc)) continue; // no centre lies left of NaN
          // k = how many pixel centres i + 0.5 lie left of xc, by the same comparison (cx < xc) the rule states
          let k = xc - 0.5 >= size ? size : xc - 0.5 <= 0 ? 0 : Math.ceil(xc - 0.5);
          while (k > 0 && !(k - 1 + 0.5 < xc)) k--;
          while (k < size && k + 0.5 < xc) k++;
          flips[j * stride + k] = flips[j * stride + k]! ^ 1;
        }
      }
      for (let j = 0; j < size; j++) {
        let inside = 0;
        for (let i = size - 1; i >= 0; i--) {
          inside ^= flips[j * stride + i + 1]!;
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
