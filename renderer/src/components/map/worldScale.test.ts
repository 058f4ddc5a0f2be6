import { describe, expect, it } from 'vitest';
import { graticuleLabel, graticuleStep, worldOpacity } from './worldScale.js';

describe('world context scale rules', () => {
  it('keeps Natural Earth opaque to zoom 9 and fades it out by zoom 13', () => {
    expect(worldOpacity(2)).toBe(1);
    expect(worldOpacity(9)).toBe(1);
    expect(worldOpacity(11)).toBeCloseTo(0.5);
    expect(worldOpacity(13)).toBe(0);
    expect(worldOpacity(18)).toBe(0);
  });

  it('spaces graticule lines to the zoom: the finest round step at least 110 px apart', () => {
    expect(graticuleStep(360, 1000)).toBe(30); // whole world
    expect(graticuleStep(2.5, 900)).toBe(0.5); // a Landsat scene: 360 px per degree
    expect(graticuleStep(0.01, 900)).toBe(0.002);
  });

  it('labels degrees with the decimals the step needs and the hemisphere', () => {
    expect(graticuleLabel(-78.5, 0.5, 'lng')).toBe('78.5°W');
    expect(graticuleLabel(24, 0.5, 'lat')).toBe('24.0°N');
    expect(graticuleLabel(-30, 10, 'lat')).toBe('30°S');
    expect(graticuleLabel(190, 10, 'lng')).toBe('170°W'); // a wrapped world copy
    expect(graticuleLabel(0, 1, 'lng')).toBe('0°');
    expect(graticuleLabel(0.1 + 0.2 - 0.3, 0.1, 'lat')).toBe('0.0°');
  });
});
