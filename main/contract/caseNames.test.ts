import { describe, expect, it } from 'vitest';
import { caseNameForImage, defaultCaseName, distinctName, isDefaultCaseName } from './caseNames.js';

describe('case names Vantage gives', () => {
  const t = new Date(2026, 11, 6, 14, 2, 37);

  it('puts the time before the date, and never repeats a listed name', () => {
    expect(defaultCaseName(t)).toBe('Case 14:02, 6 Dec');
    expect(defaultCaseName(t, ['Case 14:02, 6 Dec'])).toBe('Case 14:02:37, 6 Dec');
    expect(defaultCaseName(t, ['Case 14:02, 6 Dec', 'Case 14:02:37, 6 Dec'])).toBe('Case 14:02:37, 6 Dec (2)');
    expect(distinctName('a', ['a', 'a (2)'])).toBe('a (3)');
  });

  it('tells its own names (and the earlier versions’) from names the analyst typed', () => {
    expect(isDefaultCaseName(defaultCaseName(t))).toBe(true);
    expect(isDefaultCaseName(defaultCaseName(t, ['Case 14:02, 6 Dec', 'Case 14:02:37, 6 Dec']))).toBe(true);
    expect(isDefaultCaseName('Case 2026-12-06 14:02')).toBe(true);
    expect(isDefaultCaseName('Harbour watch')).toBe(false);
    expect(isDefaultCaseName('Case 14:02, 6 Dec harbour')).toBe(false);
  });

  it('names a case after its first image, image first so the case list tells cases apart', () => {
    expect(caseNameForImage('RGB.byte.tif', t)).toBe('RGB.byte · 14:02, 6 Dec');
    expect(caseNameForImage('/data/scene.TIFF', t, ['scene · 14:02, 6 Dec'])).toBe('scene · 14:02, 6 Dec (2)');
  });
});
