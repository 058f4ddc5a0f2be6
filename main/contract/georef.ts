import proj4 from 'proj4';
import type { ImageInfo } from './schemas.js';

/**
 * Pixel ↔ geography for one image. Pure (no node: imports): the renderer uses the same numbers as the services.
 * Pixel coordinates follow geometry.ts: (0,0) is the top-left corner of the first pixel.
 */

export type Geotransform = [number, number, number, number, number, number];
export type XY = [number, number];

export const TILE_SIZE = 256;

export interface PixelTransform {
  pixelToLngLat(p: XY): XY;
  lngLatToPixel(ll: XY): XY;
  pixelToCrs(p: XY): XY;
  crsToPixel(c: XY): XY;
  /** the image's geotransform, or for GCP-only images the best affine through the GCPs (pixel↔CRS then uses
   * polynomials of order gcpPolynomialOrder(count), fitted forward and reverse like GDAL's GCP transformer) */
  geotransform: Geotransform;
  /** proj4 converter image CRS ↔ WGS84 lon/lat; null when the image CRS is WGS84 lon/lat itself */
  toWgs84: ((c: XY) => XY) | null;
}

export function applyGeotransform(gt: ArrayLike<number>, x: number, y: number): XY {
  return [gt[0]! + x * gt[1]! + y * gt[2]!, gt[3]! + x * gt[4]! + y * gt[5]!];
}

export function invertGeotransform(gt: ArrayLike<number>): Geotransform | null {
  const det = gt[1]! * gt[5]! - gt[2]! * gt[4]!;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) return null;
  const i1 = gt[5]! / det;
  const i2 = -gt[2]! / det;
  const i4 = -gt[4]! / det;
  const i5 = gt[1]! / det;
  return [-gt[0]! * i1 - gt[3]! * i2, i1, i2, -gt[0]! * i4 - gt[3]! * i5, i4, i5];
}

type Gcps = NonNullable<ImageInfo['gcps']>;

/**
 * Least-squares affine through GCPs (like GDAL's GCPsToGeoTransform with approx OK). A first-order fit is what a
 * slippy map needs for display; swath geometry off by a few pixels is a documented limitation.
 */
export function gcpsToGeotransform(gcps: Gcps): Geotransform | null {
  if (gcps.length < 3) return null;
  // normal equations for [1, p, l] → x and → y
  let n = 0, sp = 0, sl = 0, spp = 0, sll = 0, spl = 0;
  let sx = 0, spx = 0, slx = 0, sy = 0, spy = 0, sly = 0;
  for (const g of gcps) {
    n++;
    sp += g.pixel; sl += g.line; spp += g.pixel * g.pixel; sll += g.line * g.line; spl += g.pixel * g.line;
    sx += g.x; spx += g.pixel * g.x; slx += g.line * g.x;
    sy += g.y; spy += g.pixel * g.y; sly += g.line * g.y;
  }
  const m = [n, sp, sl, sp, spp, spl, sl, spl, sll];
  const solve = (b: [number, number, number]): [number, number, number] | null => {
    const det3 = (a: number[]): number =>
      a[0]! * (a[4]! * a[8]! - a[5]! * a[7]!) - a[1]! * (a[3]! * a[8]! - a[5]! * a[6]!) + a[2]! * (a[3]! * a[7]! - a[4]! * a[6]!);
    const d = det3(m);
    if (Math.abs(d) < 1e-12) return null;
    const col = (k: number): number[] => m.map((v, i) => (i % 3 === k ? b[Math.floor(i / 3)]! : v));
    return [det3(col(0)) / d, det3(col(1)) / d, det3(col(2)) / d];
  };
  const cx = solve([sx, spx, slx]);
  const cy = solve([sy, spy, sly]);
  if (!cx || !cy) return null;
  return [cx[0], cx[1], cx[2], cy[0], cy[1], cy[2]];
}

/** Monomials x^i·y^j with i+j ≤ order, in a fixed order (1, x, y, x², xy, y², …). */
function monomials(order: number, x: number, y: number, out: number[]): void {
  out.length = 0;
  for (let d = 0; d <= order; d++) for (let j = 0; j <= d; j++) out.push(x ** (d - j) * y ** j);
}

/** Least-squares polynomial 2-D mapping (like GDAL's GCP transformer), inputs normalised for conditioning. */
export interface Polynomial2D {
  (x: number, y: number): XY;
}

export function fitPolynomial(src: XY[], dst: XY[], order: number): Polynomial2D | null {
  const n = src.length;
  const terms = ((order + 1) * (order + 2)) / 2;
  if (n < terms) return null;
  let mx = 0, my = 0;
  for (const [x, y] of src) { mx += x / n; my += y / n; }
  let sc = 0;
  for (const [x, y] of src) sc = Math.max(sc, Math.abs(x - mx), Math.abs(y - my));
  sc = sc || 1;
  // normal equations A^T A c = A^T b for both outputs at once
  const ata = Array.from({ length: terms }, () => new Float64Array(terms));
  const atb = [new Float64Array(terms), new Float64Array(terms)];
  const row: number[] = [];
  for (let k = 0; k < n; k++) {
    monomials(order, (src[k]![0] - mx) / sc, (src[k]![1] - my) / sc, row);
    for (let i = 0; i < terms; i++) {
      for (let j = 0; j < terms; j++) ata[i]![j]! += row[i]! * row[j]!;
      atb[0]![i]! += row[i]! * dst[k]![0];
      atb[1]![i]! += row[i]! * dst[k]![1];
    }
  }
  const coef = atb.map((b) => solveLinear(ata.map((r) => Float64Array.from(r)), Float64Array.from(b)));
  if (!coef[0] || !coef[1]) return null;
  const [cx, cy] = coef as [Float64Array, Float64Array];
  const m: number[] = [];
  return (x, y) => {
    monomials(order, (x - mx) / sc, (y - my) / sc, m);
    let u = 0, v = 0;
    for (let i = 0; i < terms; i++) { u += cx[i]! * m[i]!; v += cy[i]! * m[i]!; }
    return [u, v];
  };
}

/** Gaussian elimination with partial pivoting; null when singular. */
function solveLinear(a: Float64Array[], b: Float64Array): Float64Array | null {
  const n = b.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-12) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    [b[c], b[p]] = [b[p]!, b[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      if (f === 0) continue;
      for (let k = c; k < n; k++) a[r]![k]! -= f * a[c]![k]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

/** Polynomial order for a GCP set, GDAL's automatic choice: 1 below 6 GCPs, else 2 (GDAL avoids 3rd order). */
export function gcpPolynomialOrder(count: number): number {
  return count < 6 ? 1 : 2;
}

function isWgs84LonLat(def: string): boolean {
  return /^\s*\+proj=longlat\b/.test(def) && /\+datum=WGS84\b|\+ellps=WGS84\b/.test(def) && !/\+pm=|\+towgs84=[^0,]/.test(def);
}

/** Throws when the image has no usable georeferencing: callers should fall back to the pixel-space scheme. */
export function createPixelTransform(
  info: Pick<ImageInfo, 'geotransform' | 'crs' | 'width' | 'height'> & { gcps?: ImageInfo['gcps'] },
): PixelTransform {
  const gt = (info.geotransform as Geotransform | null) ?? (info.gcps ? gcpsToGeotransform(info.gcps) : null);
  if (!gt) throw new Error('image has no georeferencing (no geotransform or GCPs): open it in pixel space instead');
  if (!info.crs?.proj4) throw new Error('image CRS is unknown or not supported by proj4: cannot place it on the map');
  const inv = invertGeotransform(gt);
  if (!inv) throw new Error('image geotransform is singular: cannot map lon/lat back to pixels');
  let pixelToCrs = (p: XY): XY => applyGeotransform(gt, p[0], p[1]);
  let crsToPixel = (c: XY): XY => applyGeotransform(inv, c[0], c[1]);
  if (!info.geotransform && info.gcps) {
    // GCP-only rasters (SAR swaths) bend: forward and reverse polynomials fitted separately, as GDAL does
    const order = gcpPolynomialOrder(info.gcps.length);
    const px = info.gcps.map((g): XY => [g.pixel, g.line]);
    const geo = info.gcps.map((g): XY => [g.x, g.y]);
    const fwd = order > 1 ? fitPolynomial(px, geo, order) : null;
    const rev = order > 1 ? fitPolynomial(geo, px, order) : null;
    if (fwd && rev) {
      pixelToCrs = (p) => fwd(p[0], p[1]);
      crsToPixel = (c) => rev(c[0], c[1]);
    }
  }
  const def = info.crs.proj4;
  let conv: proj4.Converter | null = null;
  if (!isWgs84LonLat(def)) {
    try {
      conv = proj4(def, 'EPSG:4326');
    } catch (e) {
      throw new Error(`proj4 cannot use the image CRS (${def}): ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
  }
  const toWgs84 = conv ? (c: XY): XY => conv!.forward(c) as XY : null;
  const fromWgs84 = conv ? (ll: XY): XY => conv!.inverse(ll) as XY : null;
  return {
    geotransform: gt,
    toWgs84,
    pixelToCrs,
    crsToPixel,
    pixelToLngLat: (p) => {
      const c = pixelToCrs(p);
      return toWgs84 ? toWgs84(c) : c;
    },
    lngLatToPixel: (ll) => crsToPixel(fromWgs84 ? fromWgs84(ll) : ll),
  };
}

// ---- Web Mercator (EPSG:3857) XYZ tiles, Leaflet's default scheme ----

export const MERCATOR_HALF = Math.PI * 6378137;

/** Web Mercator metres of a global pixel position (tile*256 + offset) at zoom z. */
export function mercatorOfGlobalPixel(z: number, gx: number, gy: number): XY {
  const size = TILE_SIZE * 2 ** z;
  return [(gx / size) * 2 * MERCATOR_HALF - MERCATOR_HALF, MERCATOR_HALF - (gy / size) * 2 * MERCATOR_HALF];
}

/** Size in metres of one tile pixel at zoom z (at the equator, in Mercator units). */
export function mercatorPixelSize(z: number): number {
  return (2 * MERCATOR_HALF) / (TILE_SIZE * 2 ** z);
}

export function lngLatToTile(lon: number, lat: number, z: number): { x: number; y: number; px: number; py: number } {
  const size = TILE_SIZE * 2 ** z;
  const gx = ((lon + 180) / 360) * size;
  const s = Math.sin((lat * Math.PI) / 180);
  const gy = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * size;
  const x = Math.floor(gx / TILE_SIZE);
  const y = Math.floor(gy / TILE_SIZE);
  return { x, y, px: gx - x * TILE_SIZE, py: gy - y * TILE_SIZE };
}

// ---- Pixel space for non-georeferenced images (Leaflet L.CRS.Simple) ----

/**
 * Zoom at which one tile pixel is one image pixel: maxZoom = max(0, ceil(log2(max(w,h) / 256))).
 * At zoom z a tile covers 256·2^(maxZoom−z) image pixels per side, so zoom 0 shows the whole image in one tile.
 * In L.CRS.Simple terms image pixel (x, y) is LatLng(lat = −y / 2^maxZoom, lng = x / 2^maxZoom); equivalently
 * `map.unproject([x, y], maxZoom)`. Tile (tx, ty) at zoom z covers image px [tx·span, (tx+1)·span) × [ty·span, …).
 */
export function simpleMaxZoom(width: number, height: number): number {
  return Math.max(0, Math.ceil(Math.log2(Math.max(width, height) / TILE_SIZE)));
}

/** Image pixels covered by one tile side at zoom z in the pixel-space scheme. */
export function simpleTileSpan(width: number, height: number, z: number): number {
  return TILE_SIZE * 2 ** (simpleMaxZoom(width, height) - z);
}

export function simplePixelToLatLng(width: number, height: number, p: XY): { lat: number; lng: number } {
  const s = 2 ** simpleMaxZoom(width, height);
  return { lat: -p[1] / s, lng: p[0] / s };
}

export function simpleLatLngToPixel(width: number, height: number, ll: { lat: number; lng: number }): XY {
  const s = 2 ** simpleMaxZoom(width, height);
  return [ll.lng * s, -ll.lat * s];
}
