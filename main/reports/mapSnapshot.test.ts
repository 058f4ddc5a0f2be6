import { describe, expect, it } from 'vitest';
import type { ImageFactsRow } from './caseObjects.js';
import { extentRect, matchingRect, type Rect } from './mapSnapshot.js';

/** A plain picture (no georeferencing): only the fields the extent code reads. */
const plain = (width: number, height: number, id = 'img'): ImageFactsRow =>
  ({ id, path: `/x/${id}.png`, sha256: '0', info: { id, name: `${id}.png`, width, height, georeferenced: false } }) as unknown as ImageFactsRow;

describe('PDF map extent', () => {
  const caseRect = (): Rect => [1, 2, 3, 4];

  it('uses the case extent, or the chosen pixel view clamped to the image', () => {
    const img = plain(400, 300);
    expect(extentRect(img, { kind: 'case' }, caseRect)).toEqual([1, 2, 3, 4]);
    expect(extentRect(img, { kind: 'pixels', rect: [-50, 20, 250, 900] }, caseRect)).toEqual([0, 20, 250, 300]);
  });

  it('refuses a view off the image and a lon/lat box on a picture without georeferencing, with what to do', () => {
    const img = plain(400, 300);
    expect(() => extentRect(img, { kind: 'pixels', rect: [500, 0, 600, 100] }, caseRect)).toThrow(/does not cover img\.png \(400 × 300 px\).*whole case/);
    expect(() => extentRect(img, { kind: 'wgs84', bbox: [0, 0, 1, 1] }, caseRect)).toThrow(/has no georeferencing/);
  });

  it('places the later image of a pair without common georeferencing by the size ratio, flagged approximate', () => {
    expect(matchingRect(plain(400, 300), [100, 30, 200, 60], plain(800, 600, 'b'))).toEqual({ rect: [200, 60, 400, 120], exact: false });
  });
});
