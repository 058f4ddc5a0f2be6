import type { RegionGeometry } from '../contract/geometry.js';
import type { Rect } from './viewPlanner.js';

/** Radius in view pixels of the disc a point region becomes. */
export function pointRadius(size: number): number {
  return size / 16;
}

/**
 * Rasterises a region into an S×S mask of the global view (PACK_CONTRACT.md `prompt.region_masks`).
 * Rule: view pixel (i, j) — column i, row j — is inside when its centre (i+0.5, j+0.5) lies inside the geometry
 * mapped into the view (image → view is a per-axis scale, so tests are done on the centre mapped back to image
 * pixels, which is the same thing). A point becomes a disc of radius S/16 view pixels (the radius the packs
 * are trained with, native-models/testpack/generate.py POINT_RADIUS), so it is never lost at any zoom. Scribble width is in image pixels. Polygons are filled even-odd (holes from self-overlap).
 */
export function rasterizeRegion(g: RegionGeometry, view: Rect, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const [vx0, vy0, vx1, vy1] = view;
  const sx = (vx1 - vx0) / size; // image px per view px
  const sy = (vy1 - vy0) / size;
  const imgX = (i: number) => vx0 + (i + 0.5) * sx;
  const imgY = (j: number) => vy0 + (j + 0.5) * sy;
  const toViewX = (x: number) => (x - vx0) / sx;
  const toViewY = (y: number) => (y - vy0) / sy;
  const clampIdx = (v: number) => Math.min(size - 1, Math.max(0, v));

  /** visits the view pixels whose centres could fall in the image-space bounds [x0,x1]×[y0,y1] */
  const scan = (x0: number, y0: number, x1: number, y1: number, inside: (x: number, y: number) => boolean) => {
    const i0 = clampIdx(Math.floor(toViewX(x0) - 0.5)), i1 = clampIdx(Math.ceil(toViewX(x1) - 0.5));
    const j0 = clampIdx(Math.floor(toViewY(y0) - 0.5)), j1 = clampIdx(Math.ceil(toViewY(y1) - 0.5));
    if (toViewX(x1) < 0 || toViewY(y1) < 0 || toViewX(x0) > size || toViewY(y0) > size) return;
    for (let j = j0; j <= j1; j++) {
      const y = imgY(j);
      for (let i = i0; i <= i1; i++) if (inside(imgX(i), y)) out[j * size + i] = 1;
    }
  };

  switch (g.kind) {
    case 'point': {
      const r = pointRadius(size);
      const px = toViewX(g.x), py = toViewY(g.y);
      const j0 = clampIdx(Math.floor(py - r - 1)), j1 = clampIdx(Math.ceil(py + r + 1));
      const i0 = clampIdx(Math.floor(px - r - 1)), i1 = clampIdx(Math.ceil(px + r + 1));
      if (px + r < 0 || py + r < 0 || px - r > size || py - r > size) break;
      for (let j = j0; j <= j1; j++)
        for (let i = i0; i <= i1; i++) {
          const dx = i + 0.5 - px, dy = j + 0.5 - py;
          if (dx * dx + dy * dy <= r * r) out[j * size + i] = 1;
        }
      break;
    }
    case 'box': {
      const x0 = Math.min(g.x0, g.x1), x1 = Math.max(g.x0, g.x1), y0 = Math.min(g.y0, g.y1), y1 = Math.max(g.y0, g.y1);
      scan(x0, y0, x1, y1, (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1);
      break;
    }
    case 'circle': {
      const r2 = g.r * g.r;
      scan(g.cx - g.r, g.cy - g.r, g.cx + g.r, g.cy + g.r, (x, y) => (x - g.cx) ** 2 + (y - g.cy) ** 2 <= r2);
      break;
    }
    case 'scribble': {
      const half = g.width / 2;
      const pts = g.points;
      for (let s = 0; s + 1 < pts.length; s++) {
        const [ax, ay] = pts[s]!;
        const [bx, by] = pts[s + 1]!;
        const dx = bx - ax, dy = by - ay;
        const len2 = dx * dx + dy * dy;
        scan(Math.min(ax, bx) - half, Math.min(ay, by) - half, Math.max(ax, bx) + half, Math.max(ay, by) + half, (x, y) => {
          const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / len2));
          const ex = x - (ax + t * dx), ey = y - (ay + t * dy);
          return ex * ex + ey * ey <= half * half;
        });
      }
      break;
    }
    case 'polygon': {
      // Scanline even-odd fill on pixel centres: O(S·n + S²) instead of a point-in-polygon test per pixel.
      const pts = g.points;
      const n = pts.length;
      const xs: number[] = [];
      for (let j = 0; j < size; j++) {
        const y = imgY(j);
        xs.length = 0;
        for (let k = 0; k < n; k++) {
          const [ax, ay] = pts[k]!;
          const [bx, by] = pts[(k + 1) % n]!;
          // half-open rule so a vertex on the scanline is counted once
          if (ay <= y !== by <= y) xs.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
        }
        xs.sort((a, b) => a - b);
        for (let k = 0; k + 1 < xs.length; k += 2) {
          const i0 = Math.max(0, Math.ceil(toViewX(xs[k]!) - 0.5));
          const i1 = Math.min(size - 1, Math.floor(toViewX(xs[k + 1]!) - 0.5));
          for (let i = i0; i <= i1; i++) {
            const x = imgX(i);
            if (x >= xs[k]! && x < xs[k + 1]!) out[j * size + i] = 1;
          }
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
