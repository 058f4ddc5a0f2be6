import { describe, expect, it } from 'vitest';
import { buildPlaces } from './placesPlugin.mjs';

describe('buildPlaces', () => {
  it('keeps towns over the threshold and capitals, rounded, largest first', () => {
    const city = (name: string, population: number, featureCode: string, lon: number, lat: number) => ({ name, population, featureCode, loc: { coordinates: [lon, lat] } });
    const out = buildPlaces([city('Hamlet', 2000, 'PPL', 1, 1), city('Tiny capital', 3000, 'PPLC', 2.123456, 3.98765), city('City', 90_000, 'PPLA', 4, 5)]);
    expect(out).toEqual([
      ['City', 4, 5, 90_000, 0],
      ['Tiny capital', 2.123, 3.988, 3000, 1],
    ]);
  });
});
