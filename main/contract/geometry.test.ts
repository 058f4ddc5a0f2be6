import { describe, expect, it } from 'vitest';
import { pointsBounds, PolygonRegion, REGION_MAX_POINTS, simplifyPath } from './geometry.js';

type P = [number, number];

function segmentDistance(p: P, a: P, b: P): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/** largest distance from an input vertex to the simplified path (checked by brute force over every segment) */
function worstDeviation(input: P[], out: P[], closed: boolean): number {
  const segs: [P, P][] = out.slice(1).map((b, i) => [out[i]!, b]);
  if (closed) segs.push([out[out.length - 1]!, out[0]!]);
  let worst = 0;
  for (const p of input) worst = Math.max(worst, Math.min(...segs.map(([a, b]) => segmentDistance(p, a, b))));
  return worst;
}

/** deterministic jitter in [−amp, amp] */
function jitter(seed: number): (amp: number) => number {
  let s = seed;
  return (amp) => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * amp;
}

describe('pointsBounds', () => {
  it('bounds a million points (no argument-list overflow) and is ±∞ for none', () => {
    const pts = Array.from({ length: 1_000_000 }, (_, i): P => [i % 1000, 5 - i]);
    expect(pointsBounds(pts)).toEqual([0, -999_994, 999, 5]);
    expect(pointsBounds([])).toEqual([Infinity, Infinity, -Infinity, -Infinity]);
  });
});

describe('simplifyPath', () => {
  it('a densely sampled, noisy ring keeps its shape within the tolerance with a few hundred vertices', () => {
    const j = jitter(7);
    const n = 20_000;
    const ring = Array.from({ length: n }, (_, k): P => {
      const a = (2 * Math.PI * k) / n;
      return [500 + 200 * Math.cos(a) + j(0.1), 400 + 120 * Math.sin(3 * a) + 150 * Math.sin(a) + j(0.1)];
    });
    const out = simplifyPath(ring, 0.5, true);
    expect(out.length).toBeGreaterThan(20);
    expect(out.length).toBeLessThan(600);
    expect(out[0]).toBe(ring[0]); // a subsequence, first vertex kept
    expect(out.every((p, i) => i === 0 || ring.indexOf(p) > ring.indexOf(out[i - 1]!))).toBe(true);
    expect(worstDeviation(ring, out, true)).toBeLessThanOrEqual(0.5);
  });

  it('collinear runs collapse to their corners; an open path keeps both ends', () => {
    const square: P[] = [];
    for (let k = 0; k < 100; k++) square.push([k, 0]);
    for (let k = 0; k < 100; k++) square.push([100, k]);
    for (let k = 0; k < 100; k++) square.push([100 - k, 100]);
    for (let k = 0; k < 100; k++) square.push([0, 100 - k]);
    expect(simplifyPath(square, 0.5, true)).toEqual([[0, 0], [100, 0], [100, 100], [0, 100]]);
    const line = Array.from({ length: 1000 }, (_, k): P => [k / 10, k / 20]);
    expect(simplifyPath(line, 0.5)).toEqual([[0, 0], [99.9, 49.95]]);
    expect(simplifyPath([[0, 0], [5, 5]], 0.5)).toEqual([[0, 0], [5, 5]]);
  });

  it('a million-vertex scribble (a spiral drawn at sub-pixel steps) is reduced without recursion, within the tolerance', () => {
    const n = 1_000_000;
    const spiral = Array.from({ length: n }, (_, k): P => {
      const a = k / 2000;
      return [1000 + (10 + a * 4) * Math.cos(a), 1000 + (10 + a * 4) * Math.sin(a)];
    });
    const t0 = performance.now();
    const out = simplifyPath(spiral, 0.5);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000);
    expect(out[0]).toBe(spiral[0]);
    expect(out[out.length - 1]).toBe(spiral[n - 1]);
    expect(out.length).toBeLessThan(n / 50); // ≈ 16,000: a 500,000 px long spiral at 0.5 px
    // every 4999th input vertex against the whole result
    expect(worstDeviation(spiral.filter((_, k) => k % 4999 === 0), out, false)).toBeLessThanOrEqual(0.5);
  });

  it('the contract takes polygons of up to REGION_MAX_POINTS vertices', () => {
    const ring = (n: number) => Array.from({ length: n }, (_, k): P => [Math.cos(k), Math.sin(k)]);
    expect(REGION_MAX_POINTS).toBeGreaterThanOrEqual(200_000);
    expect(PolygonRegion.safeParse({ kind: 'polygon', points: ring(200_000) }).success).toBe(true);
    expect(PolygonRegion.safeParse({ kind: 'polygon', points: ring(REGION_MAX_POINTS + 1) }).success).toBe(false);
  });
});
