import type { ImageInfo } from '../../../main/contract/schemas.js';

type XY = [number, number];
type PairInfo = Pick<ImageInfo, 'id' | 'name' | 'width' | 'height' | 'georeferenced' | 'footprint'>;

/**
 * Whether two images of a case can be compared without tie points: georeferenced ones when their footprints
 * (lon/lat rings) intersect, ones without georeference when they share one pixel grid (the same width × height, as
 * change-detection PNG pairs do). The change service decides again on the real transforms; this is the panel's
 * first check, before anything is run.
 */
export type PairOverlap = { ok: true; how: 'footprint' | 'same-grid' } | { ok: false; why: string };

export function pairOverlap(a: PairInfo, b: PairInfo): PairOverlap {
  const ra = ringOf(a);
  const rb = ringOf(b);
  if (ra && rb) {
    return ringsIntersect(ra, rb) ? { ok: true, how: 'footprint' } : { ok: false, why: `${a.name} and ${b.name} do not overlap on the ground` };
  }
  if (!ra && !rb) {
    return a.width === b.width && a.height === b.height
      ? { ok: true, how: 'same-grid' }
      : { ok: false, why: `${a.name} (${a.width}×${a.height}) and ${b.name} (${b.width}×${b.height}) have no georeference and differ in size: give tie points to align them` };
  }
  const lone = ra ? b : a;
  return { ok: false, why: `${lone.name} has no georeference, so its place on ${lone === a ? b.name : a.name} is unknown: give tie points to align them` };
}

/**
 * The pair the compare panel opens on: the kept one when it still overlaps, else the first overlapping pair in the
 * case's order (A the earlier opened). null when no two images overlap.
 */
export function pickPair(images: PairInfo[], keep: { a: string | null; b: string | null } = { a: null, b: null }): { a: string; b: string } | null {
  const kept = [images.find((i) => i.id === keep.a), images.find((i) => i.id === keep.b)];
  if (kept[0] && kept[1] && kept[0].id !== kept[1].id && pairOverlap(kept[0], kept[1]).ok) return { a: kept[0].id, b: kept[1].id };
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) {
      if (pairOverlap(images[i]!, images[j]!).ok) return { a: images[i]!.id, b: images[j]!.id };
    }
  }
  return null;
}

function ringOf(i: PairInfo): XY[] | null {
  if (!i.georeferenced || !i.footprint || i.footprint.length < 3) return null;
  return i.footprint.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])) as XY[];
}

/** Two closed rings (lon/lat, planar test) share area or an edge: a crossing edge, or one inside the other. */
export function ringsIntersect(a: XY[], b: XY[]): boolean {
  const box = (r: XY[]): [number, number, number, number] =>
    r.reduce<[number, number, number, number]>((m, [x, y]) => [Math.min(m[0], x), Math.min(m[1], y), Math.max(m[2], x), Math.max(m[3], y)], [Infinity, Infinity, -Infinity, -Infinity]);
  const [ax0, ay0, ax1, ay1] = box(a);
  const [bx0, by0, bx1, by1] = box(b);
  if (ax1 < bx0 || bx1 < ax0 || ay1 < by0 || by1 < ay0) return false;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!, q = a[(i + 1) % a.length]!;
    for (let j = 0; j < b.length; j++) if (segmentsCross(p, q, b[j]!, b[(j + 1) % b.length]!)) return true;
  }
  return inside(a[0]!, b) || inside(b[0]!, a);
}

function segmentsCross(p: XY, q: XY, r: XY, s: XY): boolean {
  const o = (a: XY, b: XY, c: XY) => Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
  const on = (a: XY, b: XY, c: XY) => Math.min(a[0], b[0]) <= c[0] && c[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= c[1] && c[1] <= Math.max(a[1], b[1]);
  const [d1, d2, d3, d4] = [o(p, q, r), o(p, q, s), o(r, s, p), o(r, s, q)];
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  return (d1 === 0 && on(p, q, r)) || (d2 === 0 && on(p, q, s)) || (d3 === 0 && on(r, s, p)) || (d4 === 0 && on(r, s, q));
}

/** Even-odd point in ring. */
function inside([x, y]: XY, ring: XY[]): boolean {
  let hit = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}
