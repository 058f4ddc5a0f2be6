import { describe, expect, it } from 'vitest';
import { composeViewMasks, fineMaskSize, FINE_MASK_MAX_FACTOR } from './maskCompose.js';
import type { Rect } from './viewPlanner.js';

const M = 4;
const fill = (v: number) => new Float32Array(M * M).fill(v);
/** logits with `v` at the listed (col,row) cells and `rest` elsewhere */
const cells = (on: [number, number][], v: number, rest: number) => {
  const a = fill(rest);
  for (const [c, r] of on) a[r * M + c] = v;
  return a;
};

describe('fineMaskSize', () => {
  it("follows the finest sub-view, never coarser than M, never finer than 4·M or the rect's pixels", () => {
    expect(fineMaskSize([0, 0, 1000, 1000], [[0, 0, 500, 500]], 112)).toBe(224);
    expect(fineMaskSize([0, 0, 1000, 500], [[0, 0, 500, 500], [500, 0, 1000, 500]], 112)).toBe(224);
    expect(fineMaskSize([0, 0, 10000, 10000], [[0, 0, 100, 100]], 112)).toBe(FINE_MASK_MAX_FACTOR * 112);
    expect(fineMaskSize([0, 0, 150, 90], [[0, 0, 75, 90]], 112)).toBe(150);
    expect(fineMaskSize([0, 0, 1000, 1000], [], 112)).toBe(112);
    expect(fineMaskSize([0, 0, 1000, 1000], [[0, 0, 2000, 2000], [5, 5, 5, 9]], 112)).toBe(112);
  });
});

describe('composeViewMasks', () => {
  const G: Rect = [0, 0, 8, 8];
  const quads: Rect[] = [[0, 0, 4, 4], [4, 0, 8, 4], [0, 4, 4, 8], [4, 4, 8, 8]];

  it('takes the sub-view that holds the object, gated by the grown global mask; other sub-views do not count', () => {
    // global: one positive cell (1,1) → the object is in the top-left quadrant; every sub-view says "all inside"
    const global = { rect: G, logits: cells([[1, 1]], 5, -5) };
    const subs = quads.map((rect) => ({ rect, logits: fill(3) }));
    const r = composeViewMasks(global, subs, M);
    expect(r.size).toBe(8);
    // gate = global cells (0..2, 0..2) = image px 0..6; only the top-left quadrant (px 0..4) holds a positive centre
    const inside: string[] = [];
    for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) if (r.data[j * 8 + i]) inside.push(`${i},${j}`);
    // top-left quadrant cells all from the sub-view (3); gated cells in other quadrants fall back to the global
    // bilinear logits, which are positive only next to the positive global cell
    expect(r.logits[0]).toBe(3);
    expect(r.logits[3 * 8 + 3]).toBe(3);
    expect(inside).toContain('0,0');
    expect(inside).not.toContain('7,7');
    expect(inside).not.toContain('6,0');
    for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) expect(r.data[j * 8 + i]).toBe(1);
  });

  it('takes the smallest of overlapping sub-views and averages equal ones; uncovered cells interpolate the global logits', () => {
    const global = { rect: G, logits: fill(1) };
    const big = { rect: [0, 0, 8, 8] as Rect, logits: fill(-7) };
    const a = { rect: [0, 0, 4, 8] as Rect, logits: fill(2) };
    const b = { rect: [0, 0, 4, 8] as Rect, logits: fill(-1) };
    const r = composeViewMasks(global, [big, a, b], M);
    expect(r.size).toBe(8);
    expect(r.logits[0]).toBe(0.5); // mean of the two equal smallest views
    expect(r.data[0]).toBe(1);
    expect(r.logits[7]).toBe(-7); // only the big view holds x = 7.5
    // nothing covers the right half of a 2-wide rect → global bilinear
    const r2 = composeViewMasks({ rect: [0, 0, 8, 8], logits: cells([[0, 0]], 4, 0) }, [{ rect: [0, 0, 2, 2], logits: fill(9) }], M);
    expect(r2.size).toBe(8); // 4·M cap would be 16; the rect's 8 pixels cap it
    expect(r2.logits[0]).toBe(9);
    // cell (2,0): centre x = 2.5 → global fx = 2.5·4/8 − 0.5 = 0.75 → 0.25·4 + 0.75·0 = 1 (row 0: fy clamped to 0)
    expect(r2.logits[2]).toBeCloseTo(1, 12);
    expect(r2.logits[7 * 8 + 7]).toBe(0);
    expect(r2.data[7 * 8 + 7]).toBe(0);
  });

  it('an empty global mask gives an empty fine mask whatever the sub-views say', () => {
    const r = composeViewMasks({ rect: G, logits: fill(-1) }, quads.map((rect) => ({ rect, logits: fill(10) })), M);
    expect(r.data.every((v) => v === 0)).toBe(true);
  });
});
