import { z } from 'zod';
import { VantageError } from './errors.js';

/** Image pixel coordinates: x to the right, y down, (0,0) is the top-left corner of the first pixel. */
const coord = z.number().finite();
const xy = z.tuple([coord, coord]);

/**
 * Most vertices one polygon or scribble region may have. Regions are rasterised on views of a few hundred pixels,
 * so the client simplifies what was drawn to half a pixel first (simplifyPath); the cap only bounds what a
 * hand-written request (CLI, script) may send, and the work it costs (the rasteriser is linear in the vertices).
 */
export const REGION_MAX_POINTS = 250_000;

export const PointRegion = z.object({ kind: z.literal('point'), x: coord, y: coord });
export const BoxRegion = z.object({ kind: z.literal('box'), x0: coord, y0: coord, x1: coord, y1: coord });
export const CircleRegion = z.object({ kind: z.literal('circle'), cx: coord, cy: coord, r: z.number().positive() });
export const ScribbleRegion = z.object({
  kind: z.literal('scribble'),
  points: z.array(xy).min(2).max(REGION_MAX_POINTS),
  width: z.number().positive().default(8),
});
export const PolygonRegion = z.object({ kind: z.literal('polygon'), points: z.array(xy).min(3).max(REGION_MAX_POINTS) });

export const RegionGeometry = z.discriminatedUnion('kind', [
  PointRegion,
  BoxRegion,
  CircleRegion,
  ScribbleRegion,
  PolygonRegion,
]);
export type RegionGeometry = z.infer<typeof RegionGeometry>;
export type RegionKind = RegionGeometry['kind'];

/** Rings in image pixel coordinates; the first ring is the outer boundary, the rest are holes. */
export const PixelPolygon = z.array(z.array(xy));
export type PixelPolygon = z.infer<typeof PixelPolygon>;

type Pt = readonly [number, number];

/**
 * [minX, minY, maxX, maxY] of any number of points, by a loop. Never `Math.min(...xs)` on data: spreading more than
 * ~100k values overflows the call's argument list (RangeError). No points: [∞, ∞, −∞, −∞].
 */
export function pointsBounds(points: Iterable<Pt>): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return [x0, y0, x1, y1];
}

/** squared distance from p to the segment a–b */
function segmentDist2(p: Pt, a: Pt, b: Pt): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  const ex = p[0] - (a[0] + t * dx), ey = p[1] - (a[1] + t * dy);
  return ex * ex + ey * ey;
}

/**
 * A path (or, `closed`, a ring without its repeated first vertex) with fewer vertices, every input vertex within
 * `tolerance` of the result: a radial-distance pass (drops vertices closer than tolerance/2 to the last one kept,
 * linear) then Douglas–Peucker at tolerance/2, iterative (an explicit stack: no recursion depth on huge input).
 * The first vertex (and, open, the last) is always kept; the result is a subsequence of the input.
 */
export function simplifyPath<P extends Pt>(points: readonly P[], tolerance: number, closed = false): P[] {
  const half = tolerance / 2;
  const h2 = half * half;
  if (points.length <= 2 || !(half > 0)) return points.slice();
  // radial pass: keeps the last vertex of an open path
  const pts: P[] = [points[0]!];
  for (let i = 1; i < points.length; i++) {
    const p = points[i]!, q = pts[pts.length - 1]!;
    const dx = p[0] - q[0], dy = p[1] - q[1];
    if (dx * dx + dy * dy > h2 || (!closed && i === points.length - 1)) pts.push(p);
  }
  const n = pts.length;
  if (n <= 2) return pts;
  const at = (i: number) => pts[i % n]!;
  const keep = new Uint8Array(n);
  keep[0] = 1;
  const stack: number[] = [];
  if (closed) {
    // a ring is split at the vertex farthest from the first; both halves close back on it (index n is vertex 0)
    let far = 1, best = -1;
    for (let i = 1; i < n; i++) {
      const d = segmentDist2(pts[i]!, pts[0]!, pts[0]!);
      if (d > best) {
        far = i;
        best = d;
      }
    }
    keep[far] = 1;
    stack.push(0, far, far, n);
  } else {
    keep[n - 1] = 1;
    stack.push(0, n - 1);
  }
  while (stack.length > 0) {
    const b = stack.pop()!, a = stack.pop()!;
    let worst = h2, idx = -1;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDist2(pts[i]!, at(a), at(b));
      if (d > worst) {
        worst = d;
        idx = i;
      }
    }
    if (idx >= 0) {
      keep[idx] = 1;
      stack.push(a, idx, idx, b);
    }
  }
  return pts.filter((_, i) => keep[i] === 1);
}

/** Refuses (one line, BAD_INPUT) a region drawn wholly outside a width×height image. */
export function assertInside(r: RegionGeometry, width: number, height: number): void {
  const pts: [number, number][] =
    r.kind === 'point' ? [[r.x, r.y]] : r.kind === 'box' ? [[r.x0, r.y0], [r.x1, r.y1]] : r.kind === 'circle' ? [[r.cx, r.cy]] : r.points;
  const inside = pts.some(([x, y]) => x >= 0 && y >= 0 && x <= width && y <= height);
  if (!inside) {
    throw new VantageError('BAD_INPUT', `the ${r.kind} region lies outside the image (${width}×${height} px); draw it on the image`);
  }
}
