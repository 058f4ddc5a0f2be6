import { describe, expect, it } from 'vitest';
import { minPopulation, placesInView, type Place } from './places.js';

const identity = (lon: number, lat: number) => ({ x: lon * 100, y: -lat * 100 });
const box = () => ({ width: 60, height: 14 });

describe('placesInView', () => {
  const places: Place[] = [
    ['Big', 10, 10, 3_000_000, 0],
    ['Near Big', 10.1, 10, 400_000, 0], // 10 px from Big on this projection: overlaps, dropped
    ['Town', 12, 11, 60_000, 0],
    ['Capital', 14, 12, 20_000, 1],
    ['Outside', 40, 10, 9_000_000, 0],
    ['Wrapped', -350, 10, 2_000_000, 0], // same place as lon 10 + one world east
  ];
  it('keeps populous places in view, largest first, without overlapping labels', () => {
    const got = placesInView(places, [0, 0, 20, 20], 8, identity, box).map((p) => p.place[0]);
    expect(got).toEqual(['Big', 'Town', 'Capital']);
  });
  it('names fewer places zoomed out; capitals from zoom 3', () => {
    expect(placesInView(places, [0, 0, 20, 20], 4, identity, box).map((p) => p.place[0])).toEqual(['Big', 'Capital']);
    expect(placesInView(places, [0, 0, 20, 20], 2, identity, box).map((p) => p.place[0])).toEqual([]);
    expect(minPopulation(12)).toBeLessThan(minPopulation(6));
  });
  it('brings longitudes into a view that spans several worlds', () => {
    const got = placesInView([places[5]!], [0, 0, 380, 20], 8, identity, box);
    expect(got.map((p) => p.x)).toEqual([1000]);
  });
});
