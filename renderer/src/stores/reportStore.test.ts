import { describe, expect, it } from 'vitest';
import { formatArea } from './reportStore.js';

describe('formatArea', () => {
  it('shows m² below a hectare, ha above, and pixels when the image has no georeferencing', () => {
    expect(formatArea({ areaM2: 1234.4, areaHa: 0.12344, areaPx: 10 })).toBe('1,234 m²');
    expect(formatArea({ areaM2: 25_000, areaHa: 2.5, areaPx: 10 })).toBe('2.5 ha');
    expect(formatArea({ areaM2: 31_374_906_200, areaHa: 3_137_490.62, areaPx: 10 })).toBe('31,374.9 km²');
    expect(formatArea({ areaM2: null, areaHa: null, areaPx: 5120.4 })).toBe('5,120 px²');
  });
});
