import { afterAll, describe, expect, it } from 'vitest';
import { createPixelTransform } from '../contract/georef.js';
import { ImageInfo } from '../contract/schemas.js';
import { guessSource, inspectImage, sha256File } from './imageFacts.js';
import { TestTiffDir } from './testTiff.js';

const tmp = new TestTiffDir();
afterAll(() => tmp.remove());

describe('inspectImage', () => {
  it('returns contract-valid facts with a closed footprint ring along the edge', async () => {
    const f = tmp.grid('facts', [[1, 2], [3, 4]], ['-ot', 'Float32', '-a_srs', 'EPSG:32633', '-a_ullr', '400000', '5000020', '400020', '5000000', '-a_nodata', '-9999']);
    const facts = await inspectImage(f);
    expect(() => ImageInfo.parse({ id: 'a', ...facts })).not.toThrow();
    expect(facts).toMatchObject({ name: 'facts.tif', width: 2, height: 2, bandCount: 1, dtype: 'Float32', nodata: -9999, georeferenced: true, gcps: null });
    expect(facts.sha256).toBe(await sha256File(f));
    const ring = facts.footprint!;
    expect(ring).toHaveLength(33);
    expect(ring[32]).toEqual(ring[0]);
    const t = createPixelTransform(facts);
    expect(ring[16]![0]).toBeCloseTo(t.pixelToLngLat([2, 2])[0], 12);
    expect(ring[16]![1]).toBeCloseTo(t.pixelToLngLat([2, 2])[1], 12);
  });

  it('reports a damaged JPEG as BAD_INPUT', async () => {
    const f = tmp.file('broken.jpg', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2, 3]));
    await expect(inspectImage(f)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('reports a missing file as NOT_FOUND', async () => {
    await expect(inspectImage(tmp.dir + '/nope.tif')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('guessSource', () => {
  const opt = { dtype: 'UInt16', description: null };
  it('reads name hints first, then the data, then the folder', () => {
    expect(guessSource('/d/LC08_B10.TIF', opt)).toBe('infrared');
    expect(guessSource('/d/S1A_IW_GRDH_VV.tif', opt)).toBe('sar');
    expect(guessSource('/sar/spacenet6_rgb.tif', opt)).toBe('optical');
    expect(guessSource('/d/scene.tif', { dtype: 'CInt16', description: null })).toBe('sar');
    expect(guessSource('/d/scene.tif', { dtype: 'UInt16', description: 'Sentinel-1A IW GRD HR L1' })).toBe('sar');
    expect(guessSource('/thermal_ir_uav/0001.jpg', { dtype: 'Byte', description: null })).toBe('infrared');
    expect(guessSource('/d/scene.tif', opt)).toBe('optical');
  });
});
