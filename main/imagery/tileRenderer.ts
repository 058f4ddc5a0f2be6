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

/**
 * Full-res image pixel positions of the output pixel centres of a tile (size × size: 256, or more with `pad` rows
 * and columns of the next tiles' pixels, see renderTile), and the source scale.
 */
export function tilePixelPositions(
  img: OpenImage,
  z: number,
  x: number,
  y: number,
  size = TILE_SIZE,
): { xs: Float64Array; ys: Float64Array; srcPxPerOut: number } {
  const n = size * size;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const { width, height } = img.source.facts;
  if (!img.transform) {
    const span = simpleTileSpan(width, height, z);
    const k = span / TILE_SIZE;
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        xs[j * size + i] = x * span + (i + 0.5) * k;
        ys[j * size + i] = y * span + (j + 0.5) * k;
      }
    }
    return { xs, ys, srcPxPerOut: k };
  }
  const NODES = Math.ceil(size / GRID) + 1;
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
        if (oy >= size) break;
        for (let ii = 0; ii < GRID; ii++) {
          const fx = (ii + 0.5) / GRID;
          if (ci * GRID + ii >= size) break;
          const o = oy * size + ci * GRID + ii;
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

/** Raw size×size (256×256 unpadded) RGBA of a tile, or null when the tile does not touch the image. */
export async function renderTileRgba(
  img: OpenImage,
  z: number,
  x: number,
  y: number,
  plan?: RenderPlan,
  size = TILE_SIZE,
): Promise<Uint8Array | null> {
  const { xs, ys, srcPxPerOut } = tilePixelPositions(img, z, x, y, size);
  const rgba = new Uint8Array(size * size * 4);
  return (await sampleRgba(img, xs, ys, srcPxPerOut, rgba, plan ?? (await img.plan()))) ? rgba : null;
}

export function encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } })
    .png({ compressionLevel: 4 })
    .toBuffer()
    .then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

const emptyTiles = new Map<number, Promise<Uint8Array>>();

/** The all-transparent tile of a size, encoded once. */
export function transparentTile(size = TILE_SIZE): Promise<Uint8Array> {
  let t = emptyTiles.get(size);
  if (!t) {
    t = encodePng(new Uint8Array(size * size * 4), size, size);
    emptyTiles.set(size, t);
  }
  return t;
}

/** the most extra rows/columns a tile may carry */
export const MAX_TILE_PAD = 2;

/**
 * One 256×256 PNG tile: Web Mercator XYZ (Leaflet's default scheme) for georeferenced images, the pixel-space
 * scheme of georef.ts (L.CRS.Simple) otherwise. Outside the image the tile is transparent.
 * `pad` (0–2) adds that many columns and rows of the next tiles' pixels on the right and bottom, at the same pixel
 * spacing: the map draws each tile that much larger, so tiles drawn scaled (fractional zoom) overlap by real
 * pixels instead of meeting at antialiased edges that let the map show through as 1-px seams.
 */
export async function renderTile(img: OpenImage, z: number, x: number, y: number, plan?: RenderPlan, pad = 0): Promise<Uint8Array> {
  const size = TILE_SIZE + Math.max(0, Math.min(MAX_TILE_PAD, Math.floor(pad)));
  const rgba = await renderTileRgba(img, z, x, y, plan, size);
  return rgba ? encodePng(rgba, size, size) : transparentTile(size);
}
