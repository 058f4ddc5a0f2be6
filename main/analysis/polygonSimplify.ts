import type { PixelPolygon } from '../contract/geometry.js';
import { pointInRing } from './maskVectorizer.js';

type XY = [number, number];

/**
 * Douglas–Peucker on each ring of a polygon (closed rings, first = last), then a validity check: rings keep at
 * least 3 distinct vertices, no ring crosses itself or another ring, holes stay inside the outer ring.
 * Returns null when the simplified polygon would be invalid, so the caller can keep the exact outline.
 */
export function simplifyPolygon(poly: PixelPolygon, tolerance: number): PixelPolygon | null {
  const out = poly.map((r) => simplifyRing(r as XY[], tolerance));
  if (out.some((r) => r.length < 4)) return null;
  return isValidPolygon(out) ? out : null;
}

export function simplifyRing(ring: XY[], tol: number): XY[] {
  const open = ring.slice(0, -1);
  if (open.length <= 4 || tol <= 0) return ring;
  // split the closed ring at the vertex farthest from the first, so both halves are open polylines
  let far = 0;
  let best = -1;
  for (let i = 1; i < open.length; i++) {
    const d = Math.hypot(open[i]![0] - open[0]![0], open[i]![1] - open[0]![1]);
    if (d > best) { best = d; far = i; }
  }
  const a = douglasPeucker(open.slice(0, far + 1), tol);
  const b = douglasPeucker([...open.slice(far), open[0]!], tol);
  return [...a, ...b.slice(1)];
}

function douglasPeucker(pts: XY[], tol: number): XY[] {
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack: [number, number][] = [[0, pts.length - 1]];
  while (stack.length) {
    const [s, e] = stack.pop()!;
    let idx = -1;
    let dmax = tol;
    for (let i = s + 1; i < e; i++) {
      const d = segDistance(pts[i]!, pts[s]!, pts[e]!);
      if (d > dmax) { dmax = d; idx = i; }
    }
    if (idx >= 0) {
      keep[idx] = 1;
      stack.push([s, idx], [idx, e]);
    }
  }
  return pts.filter((_, i) => keep[i]);
}

function segDistance(p: XY, a: XY, b: XY): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/** OGC simple-feature validity for one polygon, by brute force over segment pairs (outlines are small). */
export function isValidPolygon(poly: XY[][]): boolean {
  const segs: { a: XY; b: XY; ring: number; idx: number; n: number }[] = [];
  poly.forEach((r, ri) => {
    for (let i = 0; i < r.length - 1; i++) segs.push({ a: r[i]!, b: r[i + 1]!, ring: ri, idx: i, n: r.length - 1 });
  });
  for (let i = 0; i < segs.length; i++) {
    for (let j = i + 1; j < segs.length; j++) {
      const s = segs[i]!;
      const t = segs[j]!;
      const adjacent = s.ring === t.ring && (t.idx === s.idx + 1 || (s.idx === 0 && t.idx === s.n - 1));
      if (adjacent) {
        // neighbours share one vertex; they must not fold back onto each other
        if (collinearOverlap(s.a, s.b, t.a, t.b)) return false;
        continue;
      }
      if (segmentsTouch(s.a, s.b, t.a, t.b)) return false;
    }
  }
  const outer = poly[0]!;
  for (const hole of poly.slice(1)) {
    const [ax, ay] = hole[0]!;
    const [bx, by] = hole[1]!;
    if (!pointInRing([(ax + bx) / 2, (ay + by) / 2], outer)) return false;
  }
  return true;
}

function orient(a: XY, b: XY, c: XY): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return Math.abs(v) < 1e-12 ? 0 : Math.sign(v);
}

function onSegment(a: XY, b: XY, p: XY): boolean {
  return Math.min(a[0], b[0]) - 1e-12 <= p[0] && p[0] <= Math.max(a[0], b[0]) + 1e-12 && Math.min(a[1], b[1]) - 1e-12 <= p[1] && p[1] <= Math.max(a[1], b[1]) + 1e-12;
}

function segmentsTouch(a: XY, b: XY, c: XY, d: XY): boolean {
  const o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(a, b, c)) || (o2 === 0 && onSegment(a, b, d)) || (o3 === 0 && onSegment(c, d, a)) || (o4 === 0 && onSegment(c, d, b));
}

/** Two consecutive edges a→b, b→d (sharing b) that run back along each other. */
function collinearOverlap(a: XY, b: XY, c: XY, d: XY): boolean {
  const shared = b[0] === c[0] && b[1] === c[1] ? { p: a, q: b, r: d } : { p: b, q: a, r: c };
  if (orient(shared.p, shared.q, shared.r) !== 0) return false;
  const v1 = [shared.p[0] - shared.q[0], shared.p[1] - shared.q[1]];
  const v2 = [shared.r[0] - shared.q[0], shared.r[1] - shared.q[1]];
  return v1[0]! * v2[0]! + v1[1]! * v2[1]! > 0;
}
