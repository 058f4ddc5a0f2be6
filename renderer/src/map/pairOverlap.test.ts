import { describe, expect, it } from 'vitest';
import { pairOverlap, pickPair, ringsIntersect } from './pairOverlap.js';

const square = (x: number, y: number, s: number): [number, number][] => [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]];
const geo = (id: string, ring: [number, number][]) => ({ id, name: `${id}.tif`, width: 100, height: 100, georeferenced: true, footprint: ring });
const plain = (id: string, width: number, height: number) => ({ id, name: `${id}.png`, width, height, georeferenced: false, footprint: null });

describe('pairOverlap', () => {
  it('tells overlapping footprints from apart ones, including one inside the other and crossing rings', () => {
    expect(ringsIntersect(square(0, 0, 1), square(0.5, 0.5, 1))).toBe(true);
    expect(ringsIntersect(square(0, 0, 10), square(2, 2, 1))).toBe(true);
    expect(ringsIntersect(square(2, 2, 1), square(0, 0, 10))).toBe(true);
    expect(ringsIntersect(square(0, 0, 1), square(3, 0, 1))).toBe(false);
    // bounding boxes overlap but the rings do not: a thin diagonal band against a square off the diagonal
    const diagonal: [number, number][] = [[0, 0], [1, 0], [10, 9], [10, 10], [9, 10], [0, 1], [0, 0]];
    expect(ringsIntersect(diagonal, square(7, 0, 1))).toBe(false);
    // a cross: no vertex of either inside the other, the edges cross
    expect(ringsIntersect([[0, 4], [10, 4], [10, 6], [0, 6], [0, 4]], [[4, 0], [6, 0], [6, 10], [4, 10], [4, 0]])).toBe(true);
  });

  it('accepts a pair without georeference on one pixel grid, and says why others need tie points', () => {
    expect(pairOverlap(plain('a', 256, 256), plain('b', 256, 256))).toEqual({ ok: true, how: 'same-grid' });
    expect(pairOverlap(plain('a', 256, 256), plain('b', 256, 200))).toMatchObject({ ok: false, why: expect.stringMatching(/differ in size: give tie points/) });
    expect(pairOverlap(geo('a', square(0, 0, 1)), plain('b', 100, 100))).toMatchObject({ ok: false, why: expect.stringMatching(/^b\.png has no georeference/) });
    expect(pairOverlap(geo('a', square(0, 0, 1)), geo('b', square(5, 5, 1)))).toMatchObject({ ok: false, why: 'a.tif and b.tif do not overlap on the ground' });
  });
});

describe('pickPair', () => {
  const far = geo('far', square(50, 50, 1));
  const x = geo('x', square(0, 0, 1));
  const y = geo('y', square(0.5, 0.5, 1));
  it('skips a first image that overlaps nothing and opens on the first overlapping pair', () => {
    expect(pickPair([far, x, y])).toEqual({ a: 'x', b: 'y' });
    expect(pickPair([plain('p', 256, 256), far, plain('q', 256, 256)])).toEqual({ a: 'p', b: 'q' });
  });
  it('keeps the analyst\'s pair while it overlaps, and finds none where none overlap', () => {
    const z = geo('z', square(0.2, 0.2, 1));
    expect(pickPair([x, y, z], { a: 'z', b: 'x' })).toEqual({ a: 'z', b: 'x' });
    expect(pickPair([x, y, far], { a: 'x', b: 'far' })).toEqual({ a: 'x', b: 'y' });
    expect(pickPair([x, far, plain('p', 10, 10)])).toBeNull();
  });
});
