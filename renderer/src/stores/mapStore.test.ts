import { describe, expect, it } from 'vitest';
import { pixelProjection } from '../map/imageProjection.js';
import { viewShowsImage } from './mapStore.js';

describe('viewShowsImage', () => {
  it('keeps a saved view near the image and refuses one saved in another CRS', () => {
    const bounds = pixelProjection(640, 512).bounds; // pixel space: lat −128…0, lng 0…160 at maxZoom 2
    expect(viewShowsImage({ lat: -60, lng: 80, zoom: 1 }, bounds)).toBe(true);
    expect(viewShowsImage({ lat: 24.56, lng: -77.77, zoom: 8.75 }, [[24.3, -78.1], [24.8, -77.5]])).toBe(true);
    // a Mercator view (Bahamas) restored over a pixel-space photo
    expect(viewShowsImage({ lat: 24.56, lng: -77.77, zoom: 8.75 }, [[-0.5, 0], [0, 0.625]])).toBe(false);
  });
});
