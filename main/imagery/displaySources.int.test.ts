import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, expect, it } from 'vitest';
import { lngLatToTile } from '../contract/georef.js';
import { presetDisplay } from '../contract/imageDisplay.js';
import { analyzeFiles } from '../change/changeAnalysis.js';
import { describeWithData } from '../testing/data.js';
import { ImageryService, type DisplayStore, type StoredLook } from './imageryService.js';

const S2 = ['B08', 'B02', 'B03', 'B04'].map((b) => `imagery/sentinel2_utm29n/${b}.tif`);
const L8 = ['B5_nir', 'B2_blue', 'B3_green', 'B4_red'].map((b) => `imagery/thermal/landsat8_${b}_utm17n.TIF`);
const NAIP = 'imagery/bitemporal_naip/naip_2009-08-18.tif';
const RGB = 'imagery/optical_utm/RGB.byte.tif';
const TCI = 'imagery/sentinel2_utm29n/TCI.tif';
const SAR_DB = 'imagery/sar_db/sen1floods11_Spain_7370579_S1Hand_VV_VH_db.tif';
const SAR_LIN = 'imagery/sar/S1B_RTC_Gamma0_VV_float32_cog_nodata_nan.tif';
const RGBA = 'imagery/rgba/riotiler_hro_colorado_aerial_rgba.tif';
const DEM = 'imagery/dem/terra_elev_vinschgau_float32.tif';

const tmp = mkdtempSync(path.join(tmpdir(), 'vantage-display-sources-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * No real multi-band Sentinel-2 or Landsat stack with band descriptions exists in the shared data (its bands come
 * one file each): the stack is written here with GDAL from those real single-band files, in a shuffled order
 * (NIR first), with `descriptions` as GDAL band descriptions (none: the file name alone names the bands).
 */
function gdalStack(files: string[], out: string, descriptions: string[] | null): string {
  const vrt = path.join(tmp, `${path.basename(out)}.vrt`);
  execFileSync('gdalbuildvrt', ['-q', '-separate', vrt, ...files]);
  if (descriptions) {
    let xml = execFileSync('cat', [vrt], { encoding: 'utf8' });
    descriptions.forEach((d, i) => {
      xml = xml.replace(new RegExp(`(<VRTRasterBand [^>]*band="${i + 1}"[^>]*>)`), `$1<Description>${d}</Description>`);
    });
    writeFileSync(vrt, xml);
  }
  const file = path.join(tmp, out);
  execFileSync('gdal_translate', ['-q', '-outsize', '25%', '25%', '-co', 'COMPRESS=DEFLATE', vrt, file]);
  return file;
}

/** gdallocationinfo (GDAL) as the oracle of a raw pixel value */
function gdalValue(file: string, x: number, y: number, band = 1): number {
  return Number(execFileSync('gdallocationinfo', ['-valonly', '-b', String(band), file, String(x), String(y)], { encoding: 'utf8' }).trim());
}

const memoryStore = (): DisplayStore & { looks: Map<string, StoredLook> } => {
  const looks = new Map<string, StoredLook>();
  return { looks, load: (id) => looks.get(id), save: (id, look) => void looks.set(id, look) };
};

describeWithData('source-aware display: band roles, SAR scale override, PNG alpha, terrain preset (real files)', [...S2, ...L8, NAIP, RGB, TCI, SAR_DB, SAR_LIN, RGBA, DEM], (p) => {
  const [b08, b02, b03, b04, l5, l2, l3, l4, naip, rgb, tci, sarDb, sarLin, rgba, dem] = p as string[];
  const svc = new ImageryService();
  afterAll(() => svc.close());

  it('a Sentinel-2 stack: true colour B4/B3/B2 and colour infrared B8/B4/B3 picked from band descriptions, whatever the band order', async () => {
    const file = gdalStack([b08!, b02!, b03!, b04!], 'S2_described_stack.tif', ['B08', 'B02', 'B03', 'B04']);
    await svc.register('s2d', file);
    const d = await svc.sourceDecision('s2d');
    expect(d.kind).toBe('multispectral');
    expect(d.bands!.map((b) => b.role)).toEqual(['nir', 'blue', 'green', 'red']);
    expect(d.composites).toEqual({ trueColour: [3, 2, 1], falseColour: [0, 3, 2], ndvi: [0, 3] });
    // it opens in true colour; the offered presets take the same bands
    expect((await svc.display('s2d')).bands).toEqual([3, 2, 1]);
    const f = { bandCount: 4, dtype: 'UInt16', composites: d.composites };
    expect(presetDisplay('false-colour-nir', f)).toMatchObject({ bands: [0, 3, 2] });
    expect(presetDisplay('ndvi', f)).toMatchObject({ bands: [0, 3] });
  });

  it('the band names in a file name (…_B08_B04_B03_B02) give the roles when the bands carry no description', async () => {
    const file = gdalStack([b08!, b04!, b03!, b02!], 'S2A_MSIL2A_stack_B08_B04_B03_B02.tif', null);
    await svc.register('s2n', file);
    const d = await svc.sourceDecision('s2n');
    expect(d.composites).toEqual({ trueColour: [1, 2, 3], falseColour: [0, 1, 2], ndvi: [0, 1] });
    expect((await svc.display('s2n')).bands).toEqual([1, 2, 3]);
  });

  it('Landsat 8 (LC08) band names: B5 is NIR (on Sentinel-2 it would be red edge)', async () => {
    const file = gdalStack([l5!, l2!, l3!, l4!], 'LC08_L1TP_stack.tif', ['B5', 'B2', 'B3', 'B4']);
    await svc.register('l8', file);
    const d = await svc.sourceDecision('l8');
    expect(d.bands!.map((b) => b.role)).toEqual(['nir', 'blue', 'green', 'red']);
    expect(d.composites).toMatchObject({ trueColour: [3, 2, 1], falseColour: [0, 3, 2] });
  });

  it('real files: NAIP is R,G,B,NIR; an RGB GeoTIFF and Sentinel-2 TCI stay RGB', async () => {
    await svc.register('naip', naip!);
    const n = await svc.sourceDecision('naip');
    expect(n).toMatchObject({ kind: 'multispectral', composites: { trueColour: [0, 1, 2], falseColour: [3, 0, 1], ndvi: [3, 0] } });
    expect((await svc.display('naip')).bands).toEqual([0, 1, 2]);
    for (const [id, f] of [['rgb', rgb!], ['tci', tci!]] as const) {
      await svc.register(id, f);
      const d = await svc.sourceDecision(id);
      expect(d).toMatchObject({ kind: 'optical', composites: { trueColour: [0, 1, 2], falseColour: null } });
      expect(await svc.display(id)).toMatchObject({ preset: 'natural', bands: [0, 1, 2], stretch: { kind: 'minmax', min: 0, max: 255 } });
    }
  });

  it('the analyst states the SAR scale apart from the kind: dB data read as linear, linear as amplitude; kept with the look', async () => {
    const store = memoryStore();
    const a = new ImageryService({ displays: store });
    try {
      await a.register('sdb', sarDb!);
      const raw = gdalValue(sarDb!, 256, 256);
      expect((await a.pixel('sdb', 256, 256)).calibrated!.value).toBeCloseTo(raw, 4);
      const tileDb = Buffer.from(await a.tile('sdb', 13, 4078, 3156));
      const r = await a.setSarScale('sdb', 'linear');
      expect(r.sourceDecision).toMatchObject({ kind: 'sar', sarScaleChosen: 'linear', calibration: { sarScale: 'linear', why: expect.stringMatching(/set by the analyst/) } });
      const px = await a.pixel('sdb', 256, 256);
      if (raw > 0) expect(px.calibrated!.value).toBeCloseTo(10 * Math.log10(raw), 4);
      else expect(px.calibrated).toBeNull();
      // the tiles follow the stated scale (logged now), and so would change
      expect(Buffer.from(await a.tile('sdb', 13, 4078, 3156)).equals(tileDb)).toBe(false);
      expect(store.looks.get('sdb')!.sarScale).toBe('linear');

      await a.register('slin', sarLin!);
      const v = gdalValue(sarLin!, 300, 300);
      await a.setSarScale('slin', 'amplitude');
      expect((await a.pixel('slin', 300, 300)).calibrated!.value).toBeCloseTo(20 * Math.log10(v), 4);
      // a new kind keeps the stated scale; the kind stays the analyst's own choice
      await a.setSourceKind('slin', 'sar');
      expect((await a.sourceDecision('slin')).calibration!.sarScale).toBe('amplitude');
    } finally {
      await a.close();
    }
    const b = new ImageryService({ displays: store });
    try {
      await b.register('slin', sarLin!);
      expect((await b.sourceDecision('slin')).calibration!.sarScale).toBe('amplitude');
      await b.setSarScale('slin', null);
      expect((await b.sourceDecision('slin')).calibration!.sarScale).toBe('linear');
      expect(store.looks.get('slin')!.sarScale).toBeUndefined();
    } finally {
      await b.close();
    }
  });

  it('change reads each date by the stated SAR scale', async () => {
    const stated = await analyzeFiles(sarDb!, sarDb!, { sarScales: { a: 'amplitude', b: null } });
    expect(stated.stats.sarScale).toMatchObject({ a: 'amplitude', b: 'db', why: expect.stringMatching(/^A: set by the analyst/) });
  });

  it('a PNG with alpha (written by GDAL from the real RGBA ortho): transparent where alpha is 0, alpha not a data band', async () => {
    // no real PNG with an alpha channel is in the shared data: GDAL writes the RGBA ortho's pixels as PNG
    const png = path.join(tmp, 'hro_colorado_rgba.png');
    execFileSync('gdal_translate', ['-q', '-of', 'PNG', rgba!, png]);
    const facts = await svc.register('png', png);
    expect(facts.bandCount).toBe(4);
    expect(await svc.sourceDecision('png')).toMatchObject({ alphaBand: 3 });
    expect(await svc.display('png')).toMatchObject({ bands: [0, 1, 2] });
    expect(gdalValue(png, 5, 5, 4)).toBe(0);
    expect((await svc.pixel('png', 5, 5)).valid).toBe(false);
    expect((await svc.pixel('png', 300, 200)).valid).toBe(true);
    expect((await svc.pixel('png', 300, 200)).values.slice(0, 3)).toEqual([1, 2, 3].map((b) => gdalValue(png, 300, 200, b)));
    await expect(svc.setDisplay('png', { ...(await svc.display('png')), bands: [3] })).rejects.toThrow(/alpha/);
    // the whole image in one pixel-space tile: its transparent corner is transparent, nothing opaque is black
    const { data } = await sharp(Buffer.from(await svc.tile('png', 0, 0, 0))).raw().toBuffer({ resolveWithObject: true });
    let clear = 0;
    let opaque = 0;
    let black = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) clear++;
      else {
        opaque++;
        if (data[i]! + data[i + 1]! + data[i + 2]! === 0) black++;
      }
    }
    expect(opaque).toBeGreaterThan(5000);
    expect(clear).toBeGreaterThan(1000);
    expect(black).toBeLessThan(opaque * 0.001);
  });

  it('an elevation model opens with the terrain preset (not "natural"), hillshade on', async () => {
    await svc.register('dem', dem!);
    expect(await svc.display('dem')).toMatchObject({ preset: 'terrain', colourMap: 'terrain', hillshade: true, bands: [0] });
  });

  it('padded tiles: the first 256 × 256 are the plain tile, the extra columns and rows the next tiles’ own pixels', async () => {
    await svc.register('padrgb', rgb!);
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', rgb!], { encoding: 'utf8' })) as { wgs84Extent: { coordinates: number[][][] } };
    const ring = info.wgs84Extent.coordinates[0]!;
    const z = 10;
    const { x: tx, y: ty } = lngLatToTile(ring.reduce((s, c) => s + c[0]!, 0) / ring.length, ring.reduce((s, c) => s + c[1]!, 0) / ring.length, z);
    const raw = async (x: number, y: number, pad = 0) => sharp(Buffer.from(await svc.tile('padrgb', z, x, y, pad))).raw().toBuffer({ resolveWithObject: true });
    const padded = await raw(tx, ty, 2);
    expect([padded.info.width, padded.info.height]).toEqual([258, 258]);
    const [plain, right, below] = [await raw(tx, ty), await raw(tx + 1, ty), await raw(tx, ty + 1)];
    const at = (t: { data: Buffer; info: { width: number } }, x: number, y: number) => [...t.data.subarray((y * t.info.width + x) * 4, (y * t.info.width + x) * 4 + 4)];
    let differs = 0;
    for (let y = 0; y < 258; y++) {
      for (let x = 0; x < 258; x++) {
        const want = x < 256 && y < 256 ? at(plain, x, y) : x >= 256 && y < 256 ? at(right, x - 256, y) : y >= 256 && x < 256 ? at(below, x, y - 256) : null;
        if (want && at(padded, x, y).join() !== want.join()) differs++;
      }
    }
    expect(differs).toBe(0);
  });
});
