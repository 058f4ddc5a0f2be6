import { describe, expect, it } from 'vitest';
import { decideBandRoles, roleFromWords } from './bandRoles.js';
import { parseGdalMetadata } from './sarScale.js';

const base = { alphaBand: null, meta: [], colourInterp: [], description: null };

describe('band roles → true colour, colour infrared and NDVI bands', () => {
  it('reads words of band descriptions and colour interpretations', () => {
    expect(['Red', 'green', 'Blue band', 'NIR', 'near infrared (842 nm)', 'Red Edge 1', 'SWIR 1', 'Coastal aerosol', 'Gray', 'Undefined'].map(roleFromWords)).toEqual([
      'red', 'green', 'blue', 'nir', 'nir', 'rededge', 'swir', 'coastal', null, null,
    ]);
  });

  it('reads the sensor: B4 is red on Sentinel-2 and Landsat 8, NIR on Landsat 5/7 (TM/ETM+)', () => {
    const meta = ['B4', 'B3', 'B2', 'B1'].map((description) => ({ description }));
    expect(decideBandRoles({ ...base, file: '/d/LT05_L1TP_stack.tif', bandCount: 4, meta }).bands.map((b) => b.role)).toEqual(['nir', 'red', 'green', 'blue']);
    expect(decideBandRoles({ ...base, file: '/d/LC08_L1TP_stack.tif', bandCount: 4, meta }).bands.map((b) => b.role)).toEqual(['red', 'green', 'blue', 'coastal']);
    expect(decideBandRoles({ ...base, file: '/d/S2B_MSIL2A_stack.tif', bandCount: 4, meta: ['B8A', 'B04', 'B03', 'B02'].map((description) => ({ description })) }).composites).toEqual({
      trueColour: [1, 2, 3],
      falseColour: [0, 1, 2],
      ndvi: [0, 1],
    });
  });

  it('takes GDAL COLORINTERP metadata (NIR since GDAL 3.10) and Photometric RGB; skips the alpha band', () => {
    const xml = '<GDALMetadata><Item name="COLORINTERP" sample="3" role="colorinterp">NIR</Item></GDALMetadata>';
    const meta = parseGdalMetadata(xml).bands;
    const r = decideBandRoles({ ...base, file: '/d/ortho.tif', bandCount: 5, meta, colourInterp: ['Red', 'Green', 'Blue', null, null], alphaBand: 4 });
    expect(r.bands.map((b) => b.role)).toEqual(['red', 'green', 'blue', 'nir', null]);
    expect(r.composites).toEqual({ trueColour: [0, 1, 2], falseColour: [3, 0, 1], ndvi: [3, 0] });
  });

  it('knows nothing without names: no composites (the display keeps its R,G,B,NIR-order defaults)', () => {
    expect(decideBandRoles({ ...base, file: '/d/scene.tif', bandCount: 4 }).composites).toBeNull();
    // a file-name band list only counts when it names every data band
    expect(decideBandRoles({ ...base, file: '/d/scene_B08.tif', bandCount: 4 }).composites).toBeNull();
  });
});
