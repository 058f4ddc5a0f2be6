import { describe, expect, it } from 'vitest';
import { pointRadius, rasterizeRegion, rasterizeRegions } from './regionRaster.js';
import type { Rect } from './viewPlanner.js';

const S = 64;
const whole: Rect = [0, 0, S, S];
const count = (m: Float32Array) => m.reduce((a, b) => a + b, 0);
const at = (m: Float32Array, i: number, j: number, size = S) => m[j * size + i];

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
    let want = 0;
    for (let j = 0; j < S; j++)
      for (let i = 0; i < S; i++) {
        const cx = i + 0.5, cy = j + 0.5;
        let inside = false;
        for (let a = 0; a < poly.length; a++) {
          const [xi, yi] = poly[a]!;
          const [xj, yj] = poly[(a + poly.length - 1) % poly.length]!;
          if (yi > cy !== yj > cy && cx < ((xj - xi) * (cy - yi)) / (yj - yi) + xi) inside = !inside;
        }
        if (inside) want++;
        expect(at(m, i, j), `pixel ${i},${j}`).toBe(inside ? 1 : 0);
      }
    expect(count(m)).toBe(want);
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
