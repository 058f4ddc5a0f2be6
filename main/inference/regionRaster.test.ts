import { describe, expect, it } from 'vitest';
import { pointRadius, rasterizeRegion, rasterizeRegions } from './regionRaster.js';
import type { Rect } from './viewPlanner.js';

const S = 64;
const whole: Rect = [0, 0, S, S];
const count = (m: Float32Array) => m.reduce((a, b) => a + b, 0);
const at = (m: Float32Array, i: number, j: number, size = S) => m[j * size + i];

/** The contract's rule written out plainly, for one row of an identity view: toggle per crossing right of the centre. */
function referenceRow(poly: [number, number][], j: number, size: number, columns?: number[]): number[] {
  const cy = j + 0.5;
  const row: number[] = [];
  for (const i of columns ?? Array.from({ length: size }, (_, i) => i)) {
    const cx = i + 0.5;
    let inside = false;
    for (let a = 0; a < poly.length; a++) {
      const [xi, yi] = poly[a]!;
      const [xj, yj] = poly[(a + poly.length - 1) % poly.length]!;
      if (yi > cy !== yj > cy && cx < ((xj - xi) * (cy - yi)) / (yj - yi) + xi) inside = !inside;
    }
    row.push(inside ? 1 : 0);
  }
  return row;
}
const maskRow = (m: Float32Array, j: number, size: number) => Array.from(m.subarray(j * size, (j + 1) * size));

describe('rasterizeRegion (pixel centre rule)', () => {
  it('box: exactly the pixels whose centres fall inside, corners in any order', () => {
    const m = rasterizeRegion({ kind: 'box', x0: 14, y0: 18, x1: 42, y1: 44 }, whole, S);
    expect(count(m)).toBe(28 * 26);
    expect(at(m, 14, 18)).toBe(1);
    expect(at(m, 13, 18)).toBe(0);
    expect(at(m, 41, 43)).toBe(1);
    expect(at(m, 42, 43)).toBe(0);
    const flipped = rasterizeRegion({ kind: 'box', x0: 42, y0: 44, x1: 14, y1: 18 }, whole, S);
    expect(flipped).toEqual(m);
  });

  it('box in image pixels is mapped through the view rect (scale and offset)', () => {
    // view covers image x 100..228, y 50..178 at 2 image px per view px
    const m = rasterizeRegion({ kind: 'box', x0: 100, y0: 50, x1: 164, y1: 114 }, [100, 50, 228, 178], S);
    expect(count(m)).toBe(32 * 32);
    expect(at(m, 31, 31)).toBe(1);
    expect(at(m, 32, 31)).toBe(0);
  });

  it('circle: area close to πr², symmetric', () => {
    const m = rasterizeRegion({ kind: 'circle', cx: 32, cy: 32, r: 12 }, whole, S);
    expect(Math.abs(count(m) - Math.PI * 144)).toBeLessThan(12);
    expect(at(m, 20, 31)).toBe(at(m, 43, 31));
  });

  it('point: a disc of radius S/16 view px whatever the image scale', () => {
    expect(pointRadius(S)).toBe(4);
    const small = rasterizeRegion({ kind: 'point', x: 32, y: 32 }, whole, S);
    const huge = rasterizeRegion({ kind: 'point', x: 16_000, y: 16_000 }, [0, 0, 32_000, 32_000], S);
    expect(count(small)).toBe(count(huge));
    expect(Math.abs(count(small) - Math.PI * 16)).toBeLessThan(6);
  });

  it('polygon: even-odd fill, including a self-overlapping star with an empty centre', () => {
    const square = rasterizeRegion({ kind: 'polygon', points: [[8, 8], [40, 8], [40, 40], [8, 40]] }, whole, S);
    expect(count(square)).toBe(32 * 32);
    // pentagram: the inner pentagon is covered twice, hence outside under even-odd
    const pts: [number, number][] = [];
    for (let k = 0; k < 5; k++) {
      const a = -Math.PI / 2 + (k * 4 * Math.PI) / 5;
      pts.push([32 + 28 * Math.cos(a), 32 + 28 * Math.sin(a)]);
    }
    const star = rasterizeRegion({ kind: 'polygon', points: pts }, whole, S);
    expect(at(star, 32, 32)).toBe(0);
    expect(at(star, 32, 8)).toBe(1);
  });

  it('polygon agrees with the reference rule (toggle when cx < edge crossing) on a skewed quad', () => {
    const poly: [number, number][] = [[6, 32], [32, 33], [31, 58], [7, 57]];
    const m = rasterizeRegion({ kind: 'polygon', points: poly }, whole, S);
    for (let j = 0; j < S; j++) expect(maskRow(m, j, S), `row ${j}`).toEqual(referenceRow(poly, j, S));
    expect(count(m)).toBeGreaterThan(500);
  });

  it('polygon: random polygons with vertices on pixel centres, edges and outside the view equal the reference rule', () => {
    const size = 24;
    let seed = 12;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 60; t++) {
      // half-pixel steps from −4 to size + 4: crossings land exactly on pixel centres and edges
      const poly = Array.from({ length: 3 + Math.floor(rand() * 30) }, (): [number, number] => [
        Math.floor(rand() * (2 * size + 17)) / 2 - 4,
        Math.floor(rand() * (2 * size + 17)) / 2 - 4,
      ]);
      const m = rasterizeRegion({ kind: 'polygon', points: poly }, [0, 0, size, size], size);
      for (let j = 0; j < size; j++) expect(maskRow(m, j, size), `polygon ${t} row ${j}`).toEqual(referenceRow(poly, j, size));
    }
  });

  it('polygon: 250,000 vertices — an outline fills in O(n + S²), a zigzag in O(its crossings); rows equal the reference', () => {
    const size = 256, n = 250_000;
    const circle = Array.from({ length: n }, (_, a): [number, number] => [128 + 100 * Math.cos((2 * Math.PI * a) / n), 128 + 100 * Math.sin((2 * Math.PI * a) / n)]);
    const c0 = performance.now();
    const disc = rasterizeRegion({ kind: 'polygon', points: circle }, [0, 0, size, size], size);
    const circleMs = performance.now() - c0;
    console.log(`250,000-vertex circle on ${size}×${size}: ${circleMs.toFixed(0)} ms`);
    expect(circleMs).toBeLessThan(1000);
    expect(Math.abs(count(disc) / (Math.PI * 100 * 100) - 1)).toBeLessThan(0.01);
    // a zigzag between above and below the view: every edge crosses every row (n crossings per row)
    const poly = Array.from({ length: n }, (_, a): [number, number] => [(a * size) / n, a % 2 ? size + 1 : -1]);
    const t0 = performance.now();
    const m = rasterizeRegion({ kind: 'polygon', points: poly }, [0, 0, size, size], size);
    const ms = performance.now() - t0;
    console.log(`250,000-vertex zigzag on ${size}×${size}: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000); // the per-pixel toggle loop it replaces took O(S²·n): minutes
    const cols = [0, 1, 100, 201, size - 1];
    for (const j of [0, 97, size - 1]) expect(cols.map((i) => at(m, i, j, size)), `row ${j}`).toEqual(referenceRow(poly, j, size, cols));
  });

  it('scribble: a straight stroke covers about length × width', () => {
    const m = rasterizeRegion({ kind: 'scribble', points: [[10, 32], [50, 32]], width: 6 }, whole, S);
    const expected = 40 * 6 + Math.PI * 9; // the round caps
    expect(Math.abs(count(m) - expected)).toBeLessThan(20);
    expect(at(m, 30, 29)).toBe(1);
    expect(at(m, 30, 36)).toBe(0);
  });

  it('geometry outside the view leaves the mask empty', () => {
    expect(count(rasterizeRegion({ kind: 'box', x0: 100, y0: 100, x1: 120, y1: 120 }, whole, S))).toBe(0);
    expect(count(rasterizeRegion({ kind: 'point', x: -50, y: 10 }, whole, S))).toBe(0);
  });
});

describe('rasterizeRegions', () => {
  it('stacks one mask per region, and one empty mask when there is none', () => {
    const none = rasterizeRegions([], whole, S);
    expect(none.count).toBe(1);
    expect(count(none.data)).toBe(0);
    const two = rasterizeRegions([{ kind: 'box', x0: 0, y0: 0, x1: 4, y1: 4 }, { kind: 'box', x0: 60, y0: 60, x1: 64, y1: 64 }], whole, S);
    expect(two.count).toBe(2);
    expect(count(two.data.subarray(0, S * S))).toBe(16);
    expect(count(two.data.subarray(S * S))).toBe(16);
    expect(two.data[S * S + 63 * S + 63]).toBe(1);
  });
});
