import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, expect, it } from 'vitest';
import { createPixelTransform, lngLatToTile } from '../contract/georef.js';
import { dataPath, describeWithData } from '../testing/data.js';
import { ImageryService } from './imageryService.js';

/**
 * Files whose rendered values may differ from GDAL's by a few levels, and why (max abs difference allowed).
 * JPEG-in-TIFF: geotiff.js's JPEG decoder and libjpeg round the IDCT and chroma upsampling differently.
 */
const KNOWN_GAPS: Record<string, { tolerance: number; reason: string }> = {
  'crs_edge/goes.tif': { tolerance: 3, reason: 'JPEG YCbCr: decoder rounding differs from libjpeg' },
  'optical_3857/cogeo.tif': { tolerance: 3, reason: 'JPEG YCbCr: decoder rounding differs from libjpeg' },
};

const svc = new ImageryService();
afterAll(() => svc.close());

/** GDAL's lon/lat of an image pixel position (oracle): gdaltransform from pixel/line to WGS84. */
function gdalPixelToLngLat(file: string, px: number, py: number): [number, number] {
  const out = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', '-output_xy', file], { input: `${px} ${py}\n`, encoding: 'utf8' });
  const [lon, lat] = out.trim().split(/\s+/).map(Number);
  return [lon!, lat!];
}

/** band values at a pixel (oracle): gdallocationinfo */
function gdalValues(file: string, px: number, py: number): number[] {
  const out = execFileSync('gdallocationinfo', ['-valonly', file, String(px), String(py)], { encoding: 'utf8' });
  return out.trim().split(/\s+/).map(Number);
}

async function tilePixel(id: string, lon: number, lat: number, z: number): Promise<number[]> {
  const t = lngLatToTile(lon, lat, z);
  const { data } = await sharp(await svc.tile(id, z, t.x, t.y)).raw().toBuffer({ resolveWithObject: true });
  const o = (Math.floor(t.py) * 256 + Math.floor(t.px)) * 4;
  return Array.from(data.subarray(o, o + 4));
}

function tiffs(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return tiffs(p);
    return /\.tiff?$/i.test(n) ? [p] : [];
  });
}

describeWithData('tiles land where GDAL says', ['imagery/optical_utm/RGB.byte.tif'], ([rgb]) => {
  it('RGB.byte.tif: the tile pixel at gdaltransform(pixel) shows that pixel', async () => {
    await svc.register('rgb', rgb!);
    for (const [x, y] of [[400, 300], [123, 456], [700, 100]] as const) {
      const [lon, lat] = gdalPixelToLngLat(rgb!, x + 0.5, y + 0.5);
      const want = gdalValues(rgb!, x, y);
      expect(await tilePixel('rgb', lon, lat, 16)).toEqual([...want, 255]);
    }
    // the nodata collar (top-left corner is 0,0,0) is transparent
    const [lon, lat] = gdalPixelToLngLat(rgb!, 2.5, 2.5);
    expect(gdalValues(rgb!, 2, 2)).toEqual([0, 0, 0]);
    expect((await tilePixel('rgb', lon, lat, 16))[3]).toBe(0);
  });

  it('every GeoTIFF: the image centre shows up, Byte values exact', async () => {
    const root = dataPath('imagery')!;
    for (const file of tiffs(root)) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      const id = rel.replace(/[^A-Za-z0-9_-]/g, '_');
      const facts = await svc.register(id, file);
      const t = createPixelTransform(facts);
      const cx = Math.floor(facts.width / 2) + 0.5;
      const cy = Math.floor(facts.height / 2) + 0.5;
      const [lon, lat] = t.pixelToLngLat([cx, cy]);
      const gt = t.geotransform;
      // a zoom where a tile pixel is smaller than an image pixel, so the centre sample is unambiguous
      const pxDeg = Math.abs(t.pixelToLngLat([cx + 1, cy])[0] - lon) + Math.abs(t.pixelToLngLat([cx, cy + 1])[1] - lat);
      const z = Math.min(22, Math.max(0, Math.ceil(Math.log2(360 / 256 / (pxDeg / 2)))));
      const got = await tilePixel(id, lon, lat, z);
      const want = gdalValues(file, Math.floor(cx), Math.floor(cy));
      const nodata = facts.nodata;
      // complex samples print as "re+imj": amplitude is never nodata here
      const isNodata = !facts.dtype.startsWith('C') && (want.every((v) => v === nodata) || want.some((v) => Number.isNaN(v)));
      expect(got[3], `${rel} alpha at centre (z${z}, gt ${gt.join(',')})`).toBe(isNodata ? 0 : 255);
      if (!isNodata && facts.dtype === 'Byte' && facts.geotransform) {
        const info = JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
        const colours = info.bands[0]?.colorTable?.entries as number[][] | undefined;
        const rgbWant =
          facts.bandCount >= 3
            ? want.slice(0, 3)
            : colours
              ? colours[want[0]!]!.slice(0, 3)
              : [want[0]!, want[0]!, want[0]!];
        const tol = KNOWN_GAPS[rel]?.tolerance ?? 0;
        const diff = Math.max(...rgbWant.map((v, i) => Math.abs(v - got[i]!)));
        expect(diff, `${rel} value at centre: got ${got.slice(0, 3).join(',')}, gdal ${rgbWant.join(',')}`).toBeLessThanOrEqual(tol);
      }
    }
  });
});
