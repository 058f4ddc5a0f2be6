import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { ImageryService, type DisplayStore, type StoredLook } from './imageryService.js';

const SAR_DB = 'imagery/sar_db/sen1floods11_Spain_7370579_S1Hand_VV_VH_db.tif';
const SAR_LIN = 'imagery/sar/S1B_RTC_Gamma0_VV_float32_cog_nodata_nan.tif';
const ST = 'imagery/thermal_l2/LC08_L2SP_008059_20191201_20200825_02_T1_ST_B10.TIF';
const BT = 'imagery/thermal/landsat8_B10_tirs_utm17n.TIF';
const DEM_INT = 'imagery/dem/terra_elev_luxembourg_int16.tif';
const DEM_FLOAT = 'imagery/dem/terra_elev_vinschgau_float32.tif';
const OPTICAL = 'imagery/optical_utm/RGB.byte.tif';
const RGBA = 'imagery/rgba/riotiler_hro_colorado_aerial_rgba.tif';

function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.asinh(Math.tan((lat * Math.PI) / 180)) / Math.PI) / 2) * n)];
}

/** gdallocationinfo (GDAL) as the oracle of a raw pixel value */
function gdalValue(file: string, x: number, y: number): number {
  return Number(execFileSync('gdallocationinfo', ['-valonly', '-b', '1', file, String(x), String(y)], { encoding: 'utf8' }).trim());
}

describeWithData('source kind and calibration decided once in the imagery service (real files)', [SAR_DB, SAR_LIN, ST, BT, DEM_INT, DEM_FLOAT, OPTICAL, RGBA], (p) => {
  const [sarDb, sarLin, st, bt, demInt, demFloat, optical, rgba] = p as [string, string, string, string, string, string, string, string];
  const svc = new ImageryService();
  afterAll(() => svc.close());

  it('Sentinel-1 already in dB is recognised and opens in the SAR dB preset without a second log (not opaque black)', async () => {
    await svc.register('sdb', sarDb);
    const d = await svc.sourceDecision('sdb');
    expect(d.kind).toBe('sar');
    expect(d.calibration).toMatchObject({ unit: 'dB', sarScale: 'db' });
    expect((await svc.display('sdb')).preset).toBe('sar-db');
    const px = await svc.pixel('sdb', 256, 256);
    expect(px.calibrated!.value).toBeCloseTo(gdalValue(sarDb, 256, 256), 4);
    expect(px.calibrated!.unit).toBe('dB');
    // the scene's centre tile: visible, varied grey (log of negative dB values would be NaN → transparent/black)
    const { data } = await sharp(Buffer.from(await svc.tile('sdb', 13, 4078, 3156))).raw().toBuffer({ resolveWithObject: true });
    let opaque = 0;
    const greys = new Set<number>();
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0) { opaque++; greys.add(data[i]!); }
    expect(opaque).toBeGreaterThan(1000);
    expect(greys.size).toBeGreaterThan(20);
  });

  it('linear SAR power is logged to dB for display and inspection', async () => {
    await svc.register('slin', sarLin);
    const d = await svc.sourceDecision('slin');
    expect(d.calibration).toMatchObject({ sarScale: 'linear', unit: 'dB' });
    const raw = gdalValue(sarLin, 300, 300);
    expect((await svc.pixel('slin', 300, 300)).calibrated!.value).toBeCloseTo(10 * Math.log10(raw), 4);
  });

  it('Landsat C2 L2 ST_B10 reads surface temperature from its MTL (K = DN × 0.00341802 + 149), L1 B10 brightness temperature', async () => {
    await svc.register('st', st);
    const d = await svc.sourceDecision('st');
    expect(d).toMatchObject({ kind: 'thermal', calibration: { level: 'L2', unit: 'K', quantity: 'surface temperature' } });
    expect((await svc.display('st')).preset).toBe('thermal');
    const px = await svc.pixel('st', 256, 256);
    expect(px.calibrated!.value).toBeCloseTo(gdalValue(st, 256, 256) * 0.00341802 + 149.0, 3);
    expect(px.brightnessK).toBeNull();
    await svc.register('bt', bt);
    expect((await svc.sourceDecision('bt')).calibration).toMatchObject({ level: 'L1' });
    const b = await svc.pixel('bt', 100, 100);
    expect(b.calibrated!.value).toBeCloseTo(b.brightnessK!, 6);
    expect(b.calibrated!.value).toBeGreaterThan(250);
    expect(b.calibrated!.value).toBeLessThan(330);
  });

  it('DEMs (int16 with an "elevation" band description, float32 named elev) are elevation in metres with the terrain colour map', async () => {
    for (const [id, f] of [['di', demInt], ['df', demFloat]] as const) {
      await svc.register(id, f);
      expect(await svc.sourceDecision(id)).toMatchObject({ kind: 'elevation', calibration: { unit: 'm' } });
      expect(await svc.display(id)).toMatchObject({ colourMap: 'terrain', stretch: { kind: 'percentile' } });
    }
    // the hillshade shades the terrain colours by slope: the Alpine DEM's centre tile differs with it off
    const shaded = await svc.display('df');
    expect(shaded.hillshade).toBe(true);
    const centre = JSON.parse(execFileSync('gdalinfo', ['-json', demFloat], { encoding: 'utf8' })) as { wgs84Extent: { coordinates: number[][][] } };
    const ring = centre.wgs84Extent.coordinates[0]!;
    const [tx, ty] = tileOf(ring.reduce((s, c) => s + c[0]!, 0) / ring.length, ring.reduce((s, c) => s + c[1]!, 0) / ring.length, 10);
    const on = await sharp(Buffer.from(await svc.tile('df', 10, tx, ty))).raw().toBuffer();
    await svc.setDisplay('df', { ...shaded, hillshade: false });
    const off = await sharp(Buffer.from(await svc.tile('df', 10, tx, ty))).raw().toBuffer();
    let darker = 0;
    for (let i = 0; i < on.length; i += 4) if (on[i + 3]! > 0 && on[i]! + on[i + 1]! + on[i + 2]! < off[i]! + off[i + 1]! + off[i + 2]! - 30) darker++;
    expect(darker).toBeGreaterThan(1000);
    const px = await svc.pixel('df', 100, 100);
    expect(px.calibrated).toEqual({ quantity: 'elevation', value: gdalValue(demFloat, 100, 100), unit: 'm' });
  });

  it('an optical RGB stays optical with its stored-as-is display and no calibration', async () => {
    await svc.register('opt', optical);
    expect(await svc.sourceDecision('opt')).toMatchObject({ kind: 'optical', calibration: null });
    expect((await svc.display('opt')).preset).toBe('natural');
    expect((await svc.pixel('opt', 400, 400)).calibrated).toBeNull();
  });

  it('an RGBA ortho: its alpha band makes its corner transparent (no opaque black) and is not a data band', async () => {
    await svc.register('rgba', rgba);
    expect(await svc.sourceDecision('rgba')).toMatchObject({ kind: 'optical', alphaBand: 3 });
    expect(await svc.display('rgba')).toMatchObject({ bands: [0, 1, 2] });
    expect(gdalValue(rgba, 5, 5)).toBe(0);
    expect((await svc.pixel('rgba', 5, 5)).valid).toBe(false);
    expect((await svc.pixel('rgba', 300, 200)).valid).toBe(true);
    await expect(svc.setDisplay('rgba', { ...(await svc.display('rgba')), bands: [3] })).rejects.toThrow(/alpha/);
    // the image's lon/lat box (gdalinfo: -104.7751..-104.7749 around the centre) at z19: every tile it touches
    const z = 19;
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', rgba], { encoding: 'utf8' })) as { wgs84Extent: { coordinates: number[][][] } };
    const ring = info.wgs84Extent.coordinates[0]!;
    const lons = ring.map((c) => c[0]!);
    const lats = ring.map((c) => c[1]!);
    const [x0, y0] = tileOf(Math.min(...lons), Math.max(...lats), z);
    const [x1, y1] = tileOf(Math.max(...lons), Math.min(...lats), z);
    let opaqueBlack = 0;
    let opaque = 0;
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const { data } = await sharp(Buffer.from(await svc.tile('rgba', z, x, y))).raw().toBuffer({ resolveWithObject: true });
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! === 0) continue;
          opaque++;
          if (data[i]! === 0 && data[i + 1]! === 0 && data[i + 2]! === 0) opaqueBlack++;
        }
      }
    }
    expect(opaque).toBeGreaterThan(10000);
    expect(opaqueBlack).toBeLessThan(opaque * 0.001);
  });

  it('the analyst overrides the kind: calibration and display follow, and the choice is kept with the look', async () => {
    const looks = new Map<string, StoredLook>();
    const store: DisplayStore = { load: (id) => looks.get(id), save: (id, look) => void looks.set(id, look) };
    const a = new ImageryService({ displays: store });
    await a.register('dem', demFloat);
    const r = await a.setSourceKind('dem', 'optical');
    expect(r.sourceDecision).toMatchObject({ kind: 'optical', calibration: null });
    expect(r.sourceDecision.why).toMatch(/set by the analyst/);
    expect(r.display).toMatchObject({ preset: 'natural', colourMap: 'grey' });
    expect((await a.pixel('dem', 100, 100)).calibrated).toBeNull();
    await a.close();
    const b = new ImageryService({ displays: store });
    await b.register('dem', demFloat);
    expect((await b.sourceDecision('dem')).kind).toBe('optical');
    expect((await b.display('dem')).colourMap).toBe('grey');
    // back to the decided kind
    expect((await b.setSourceKind('dem', null)).sourceDecision.kind).toBe('elevation');
    expect(looks.get('dem')!.sourceKind).toBeUndefined();
    await b.close();
  });
});
