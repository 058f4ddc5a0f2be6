import proj4 from 'proj4';
import sharp from 'sharp';
import {
  mercatorOfGlobalPixel,
  simpleTileSpan,
  TILE_SIZE,
  type XY,
} from '../contract/georef.js';
import type { OpenImage } from './openImage.js';
import type { RenderPlan } from './displayStretch.js';
import { sampleRgba } from './pixelSampler.js';

/** Transform control points every GRID px; pixels in between are interpolated bilinearly (GDAL's approximate
 * transformer does the same). Cells with a failed corner (outside the projection's domain) go exact per pixel. */
const GRID = 16;
const NODES = TILE_SIZE / GRID + 1;
/** a round trip image→WGS84 further off than this (degrees) means proj4 extrapolated nonsense: treat as outside */
const ROUND_TRIP_TOL_DEG = 1e-4;

const toImageCrs = new WeakMap<OpenImage, ((m: XY) => XY) | null>();

/** Web Mercator metres → image CRS coordinates, or null when the image CRS is Web Mercator itself. */
function mercatorToImage(img: OpenImage): ((m: XY) => XY) | null {
  if (toImageCrs.has(img)) return toImageCrs.get(img)!;
  const crs = img.source.facts.crs;
  let f: ((m: XY) => XY) | null = null;
  if (crs?.epsg !== 3857 && crs?.proj4) {
    const c = proj4('EPSG:3857', crs.proj4);
    f = (m) => c.forward(m) as XY;
  }
  toImageCrs.set(img, f);
  return f;
}

const MERC_TO_LL = proj4('EPSG:3857', 'EPSG:4326');

/** Full-res image pixel of a Web Mercator point; NaN when it does not map (outside the CRS's domain). */
function mercatorToPixel(img: OpenImage, m: XY): XY {
  const t = img.transform!;
  const f = mercatorToImage(img);
  try {
    const c = f ? f(m) : m;
    if (!Number.isFinite(c[0]) || !Number.isFinite(c[1])) return [NaN, NaN];
    if (f && t.toWgs84) {
      // projections extrapolate far from their zone (UTM on the other side of the globe): verify by round trip
      const back = t.toWgs84(c);
      const ll = MERC_TO_LL.forward(m) as XY;
      let dLon = Math.abs(back[0] - ll[0]);
      if (dLon > 180) dLon = 360 - dLon;
      if (!(dLon < ROUND_TRIP_TOL_DEG && Math.abs(back[1] - ll[1]) < ROUND_TRIP_TOL_DEG)) return [NaN, NaN];
    }
    return t.crsToPixel(c);
  } catch {
    return [NaN, NaN];
  }
}

/** Full-res image pixel positions of the 256×256 output pixel centres of a tile, and the source scale. */
export function tilePixelPositions(
  img: OpenImage,
  z: number,
  x: number,
  y: number,
): { xs: Float64Array; ys: Float64Array; srcPxPerOut: number } {
  const n = TILE_SIZE * TILE_SIZE;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const { width, height } = img.source.facts;
  if (!img.transform) {
    const span = simpleTileSpan(width, height, z);
    const k = span / TILE_SIZE;
    for (let j = 0; j < TILE_SIZE; j++) {
      for (let i = 0; i < TILE_SIZE; i++) {
        xs[j * TILE_SIZE + i] = x * span + (i + 0.5) * k;
        ys[j * TILE_SIZE + i] = y * span + (j + 0.5) * k;
      }
    }
    return { xs, ys, srcPxPerOut: k };
  }
  const gx = new Float64Array(NODES * NODES);
  const gy = new Float64Array(NODES * NODES);
  for (let j = 0; j < NODES; j++) {
    for (let i = 0; i < NODES; i++) {
      const p = mercatorToPixel(img, mercatorOfGlobalPixel(z, x * TILE_SIZE + i * GRID, y * TILE_SIZE + j * GRID));
      gx[j * NODES + i] = p[0];
      gy[j * NODES + i] = p[1];
    }
  }
  let srcPxPerOut = Infinity;
  for (let cj = 0; cj < NODES - 1; cj++) {
    for (let ci = 0; ci < NODES - 1; ci++) {
      const a = cj * NODES + ci;
      const b = a + 1;
      const c = a + NODES;
      const d = c + 1;
      const ok = Number.isFinite(gx[a]! + gx[b]! + gx[c]! + gx[d]!);
      if (ok) {
        const cross = Math.abs((gx[b]! - gx[a]!) * (gy[c]! - gy[a]!) - (gy[b]! - gy[a]!) * (gx[c]! - gx[a]!));
        srcPxPerOut = Math.min(srcPxPerOut, Math.sqrt(cross) / GRID);
      }
      for (let jj = 0; jj < GRID; jj++) {
        const fy = (jj + 0.5) / GRID;
        const oy = cj * GRID + jj;
        for (let ii = 0; ii < GRID; ii++) {
          const fx = (ii + 0.5) / GRID;
          const o = oy * TILE_SIZE + ci * GRID + ii;
          if (ok) {
            xs[o] = (gx[a]! * (1 - fx) + gx[b]! * fx) * (1 - fy) + (gx[c]! * (1 - fx) + gx[d]! * fx) * fy;
            ys[o] = (gy[a]! * (1 - fx) + gy[b]! * fx) * (1 - fy) + (gy[c]! * (1 - fx) + gy[d]! * fx) * fy;
          } else {
            const p = mercatorToPixel(img, mercatorOfGlobalPixel(z, x * TILE_SIZE + ci * GRID + ii + 0.5, y * TILE_SIZE + oy + 0.5));
            xs[o] = p[0];
            ys[o] = p[1];
          }
        }
      }
    }
  }
  if (!Number.isFinite(srcPxPerOut) || srcPxPerOut <= 0) srcPxPerOut = 1;
  return { xs, ys, srcPxPerOut };
}

/** Raw 256×256 RGBA of a tile, or null when the tile does not touch the image. */
export async function renderTileRgba(
  img: OpenImage,
  z: number,
  x: number,
  y: number,
  plan?: RenderPlan,
): Promise<Uint8Array | null> {
  const { xs, ys, srcPxPerOut } = tilePixelPositions(img, z, x, y);
  const rgba = new Uint8Array(TILE_SIZE * TILE_SIZE * 4);
  return (await sampleRgba(img, xs, ys, srcPxPerOut, rgba, plan ?? (await img.plan()))) ? rgba : null;
}

export function encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } })
    .png({ compressionLevel: 4 })
    .toBuffer()
    .then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

let emptyTile: Promise<Uint8Array> | null = null;

/** The all-transparent tile, encoded once. */
export function transparentTile(): Promise<Uint8Array> {
  emptyTile ??= encodePng(new Uint8Array(TILE_SIZE * TILE_SIZE * 4), TILE_SIZE, TILE_SIZE);
  return emptyTile;
}

/**
 * One 256×256 PNG tile: Web Mercator XYZ (Leaflet's default scheme) for georeferenced images, the pixel-space
 * scheme of georef.ts (L.CRS.Simple) otherwise. Outside the image the tile is transparent.
 */
export async function renderTile(img: OpenImage, z: number, x: number, y: number, plan?: RenderPlan): Promise<Uint8Array> {
  const rgba = await renderTileRgba(img, z, x, y, plan);
  return rgba ? encodePng(rgba, TILE_SIZE, TILE_SIZE) : transparentTile();
}
