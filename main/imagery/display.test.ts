import { execFileSync } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultDisplay, displayVersion, ImageDisplay, presetDisplay } from '../contract/imageDisplay.js';
import { simpleTileSpan } from '../contract/georef.js';
import { colourTable } from './displayStretch.js';
import { ImageryService } from './imageryService.js';
import { TestTiffDir } from './testTiff.js';

const tmp = new TestTiffDir();
const saved = new Map<string, unknown>();
const svc = new ImageryService({
  cacheBytes: 16 * 1024 * 1024,
  displays: { load: (id) => saved.get(id) ?? null, save: (id, d) => saved.set(id, d) },
});
afterAll(async () => {
  await svc.close();
  tmp.remove();
});

/** 4-band (R,G,B,NIR) 2×2 image without georeferencing: band b of pixel (x,y) from `px` */
function fourBand(name: string, px: number[][][]): string {
  const bands = [0, 1, 2, 3].map((b) => tmp.grid(`${name}_b${b}`, px.map((row) => row.map((p) => p[b]!)), ['-ot', 'UInt16']));
  const vrt = path.join(tmp.dir, `${name}.vrt`);
  execFileSync('gdalbuildvrt', ['-q', '-separate', vrt, ...bands]);
  const out = path.join(tmp.dir, `${name}.tif`);
  execFileSync('gdal_translate', ['-q', '-of', 'GTiff', vrt, out]);
  // gdal_translate from an ASCII grid leaves no CRS: the image shows in pixel space (tile 0/0/0 holds all of it)
  return out;
}

/** RGBA of image pixel (x, y) in the z=0 pixel-space tile of a w×h image */
async function pixelRgba(id: string, w: number, h: number, x: number, y: number): Promise<number[]> {
  const { data } = await sharp(await svc.tile(id, 0, 0, 0)).raw().toBuffer({ resolveWithObject: true });
  const k = 256 / simpleTileSpan(w, h, 0);
  const o = (Math.floor((y + 0.5) * k) * 256 + Math.floor((x + 0.5) * k)) * 4;
  return Array.from(data.subarray(o, o + 4));
}

describe('display settings', () => {
  const px = [
    [[100, 200, 300, 900], [400, 500, 600, 100]],
    [[10, 20, 30, 40], [0, 0, 0, 0]],
  ];

  it('defaults: 2–98 % stretch for 16-bit, as stored for 8-bit, palette when there is one', () => {
    expect(defaultDisplay({ bandCount: 4, dtype: 'UInt16' })).toMatchObject({ bands: [0, 1, 2], stretch: { kind: 'percentile', lo: 2, hi: 98 } });
    expect(defaultDisplay({ bandCount: 1, dtype: 'Byte', hasPalette: true })).toMatchObject({ bands: [0], colourMap: 'palette', stretch: { kind: 'minmax' } });
    expect(presetDisplay('ndvi', { bandCount: 3, dtype: 'Byte' })).toEqual({ error: expect.stringContaining('4-band') });
    expect(ImageDisplay.safeParse({ ...defaultDisplay({ bandCount: 1, dtype: 'Byte' }), preset: 'ndvi' }).success).toBe(false);
  });

  it('false colour, NDVI and gamma change the tile; the setting persists and survives re-registration', async () => {
    const f = fourBand('fc', px);
    await svc.register('fc', f);
    const d0 = await svc.display('fc');
    expect(d0.preset).toBe('natural');

    const fc = presetDisplay('false-colour-nir', { bandCount: 4, dtype: 'UInt16' });
    if ('error' in fc) throw new Error(fc.error);
    // min/max 0..1000 makes expected values exact: NIR of pixel (0,0) = 900 → 229.5 → 230 in red
    const fcFixed: ImageDisplay = { ...fc, stretch: { kind: 'minmax', min: 0, max: 1000 } };
    await svc.setDisplay('fc', fcFixed);
    expect(await pixelRgba('fc', 2, 2, 0, 0)).toEqual([230, 26, 51, 255]);
    expect(saved.get('fc')).toEqual({ display: fcFixed, layer: { opacity: 1, visible: true } });
    await svc.setLayer('fc', { opacity: 0.5, visible: false });

    const gamma: ImageDisplay = { ...fcFixed, gamma: 2 };
    await svc.setDisplay('fc', gamma);
    // t = 0.9 → 0.9^(1/2) = 0.9487 → 242
    expect((await pixelRgba('fc', 2, 2, 0, 0))[0]).toBe(242);
    expect(displayVersion(gamma)).not.toBe(displayVersion(fcFixed));

    const ndvi = presetDisplay('ndvi', { bandCount: 4, dtype: 'UInt16' });
    if ('error' in ndvi) throw new Error(ndvi.error);
    await svc.setDisplay('fc', ndvi);
    const lut = colourTable('rdylgn')!;
    // pixel (0,0): (900−100)/(900+100) = 0.8 → t = 0.9 → entry 230; pixel (1,0): (100−400)/500 = −0.6 → t = 0.2 → 51
    expect(await pixelRgba('fc', 2, 2, 0, 0)).toEqual([...lut.subarray(230 * 3, 230 * 3 + 3), 255]);
    expect(await pixelRgba('fc', 2, 2, 1, 0)).toEqual([...lut.subarray(51 * 3, 51 * 3 + 3), 255]);
    // all-zero pixel: NDVI undefined → transparent
    expect((await pixelRgba('fc', 2, 2, 1, 1))[3]).toBe(0);

    // a fresh service (app restart) loads the stored display
    const again = new ImageryService({ displays: { load: (id) => saved.get(id) ?? null, save: () => undefined } });
    try {
      await again.register('fc', f);
      expect(await again.display('fc')).toEqual(ndvi);
      expect(await again.layer('fc')).toEqual({ opacity: 0.5, visible: false });
    } finally {
      await again.close();
    }
  });

  it('rejects bands the image does not have, with the reason', async () => {
    const f = tmp.grid('one', [[1, 2], [3, 4]], ['-ot', 'Float32']);
    await svc.register('one', f);
    const bad: ImageDisplay = { ...defaultDisplay({ bandCount: 3, dtype: 'Float32' }) };
    await expect(svc.setDisplay('one', bad)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('band 2 does not exist') });
  });

  it('SAR dB: 10·log10 before the stretch; thermal: colour map on the stretched value', async () => {
    // linear 1, 10, 100, 1000 → 0, 10, 20, 30 dB; min/max 0..30 dB → 0, 85, 170, 255
    const f = tmp.grid('sar', [[1, 10], [100, 1000]], ['-ot', 'Float32']);
    await svc.register('sar', f);
    const sar = presetDisplay('sar-db', { bandCount: 1, dtype: 'Float32' });
    if ('error' in sar) throw new Error(sar.error);
    await svc.setDisplay('sar', { ...sar, stretch: { kind: 'minmax', min: 0, max: 30 } });
    expect([await pixelRgba('sar', 2, 2, 0, 0), await pixelRgba('sar', 2, 2, 1, 0), await pixelRgba('sar', 2, 2, 0, 1), await pixelRgba('sar', 2, 2, 1, 1)].map((p) => p[0])).toEqual([0, 85, 170, 255]);
    // speckle smoothing (display only): pixel (0,0) becomes the mean of its 3×3 neighbourhood (all four) = 277.75 → 24.4 dB
    await svc.setDisplay('sar', { ...sar, stretch: { kind: 'minmax', min: 0, max: 30 }, sarSpeckleSmoothing: true });
    expect((await pixelRgba('sar', 2, 2, 0, 0))[0]).toBe(Math.round((10 * Math.log10(277.75) / 30) * 255));
    expect((await svc.pixel('sar', 0, 0)).values).toEqual([1]);

    const th = presetDisplay('thermal', { bandCount: 1, dtype: 'Float32' });
    if ('error' in th) throw new Error(th.error);
    await svc.setDisplay('sar', { ...th, stretch: { kind: 'minmax', min: 0, max: 1000 } });
    const lut = colourTable('inferno')!;
    expect(await pixelRgba('sar', 2, 2, 1, 1)).toEqual([...lut.subarray(255 * 3, 255 * 3 + 3), 255]);
  });
});
