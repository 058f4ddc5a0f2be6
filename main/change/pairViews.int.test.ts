import { expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { rectsOnB } from './pairViews.js';

describeWithData('B views on A rects', ['imagery/bitemporal_naip/naip_2009-08-18.tif', 'imagery/bitemporal_naip/naip_2020-08-31.tif'], ([fileA, fileB]) => {
  it('maps A rects to the same ground of B (NAIP pair: same 5 m grid within about a pixel), and refuses rects off B', async () => {
    // B (934×723) is A's grid (934×724) within a pixel: the mapped rect is A's rect, whole pixels, ±1 px
    const [whole, inner] = await rectsOnB(fileA!, fileB!, [[0, 0, 934, 724], [100, 200, 300, 400]], null);
    expect(whole).toEqual([0, 0, 934, 723]);
    inner!.forEach((v, k) => expect(Math.abs(v - [100, 200, 300, 400][k]!)).toBeLessThanOrEqual(1));
    await expect(rectsOnB(fileA!, fileB!, [[5000, 5000, 6000, 6000]], null)).rejects.toThrow(/do not overlap there/);
  });
});
