import type { OpenImage } from './openImage.js';

/**
 * Nearest-neighbour sampling of an image at full-resolution pixel positions into 8-bit RGBA. Positions outside
 * the image or NaN give alpha 0; so do pixels whose display bands all equal nodata, that hold NaN, or that the
 * file's internal mask marks invalid.
 * `srcPxPerOut` (full-res pixels per output pixel) picks the overview: the coarsest level still at least as fine.
 * Returns false when no position fell inside the image (nothing was read).
 */
export async function sampleRgba(
  img: OpenImage,
  xs: Float64Array,
  ys: Float64Array,
  srcPxPerOut: number,
  out: Uint8Array,
): Promise<boolean> {
  const { width: W, height: H, nodata } = img.source.facts;
  const n = xs.length;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!, y = ys[i]!;
    if (!(x >= 0 && x < W && y >= 0 && y < H)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  out.fill(0);
  if (minX === Infinity) return false;

  const levels = img.source.levels;
  let level = 0;
  for (let l = 1; l < levels.length; l++) {
    const lv = levels[l]!;
    if (Math.max(lv.scaleX, lv.scaleY) <= srcPxPerOut * 1.001) level = l;
  }
  const lv = levels[level]!;
  const sx = lv.scaleX, sy = lv.scaleY;
  const win: [number, number, number, number] = [
    Math.max(0, Math.floor(minX / sx)),
    Math.max(0, Math.floor(minY / sy)),
    Math.min(lv.width, Math.floor(maxX / sx) + 1),
    Math.min(lv.height, Math.floor(maxY / sy) + 1),
  ];
  const stretch = await img.stretch();
  const data = await img.read(level, win, stretch.bands);
  const dw = data.width, dh = data.height;
  const nb = data.bands.length;
  const b0 = data.bands[0]!;
  const b1 = data.bands[nb > 1 ? 1 : 0]!;
  const b2 = data.bands[nb > 2 ? 2 : 0]!;
  const lo0 = stretch.lo[0]!, lo1 = stretch.lo[nb > 1 ? 1 : 0]!, lo2 = stretch.lo[nb > 2 ? 2 : 0]!;
  const k0 = 255 / (stretch.hi[0]! - lo0);
  const k1 = 255 / (stretch.hi[nb > 1 ? 1 : 0]! - lo1);
  const k2 = 255 / (stretch.hi[nb > 2 ? 2 : 0]! - lo2);
  const nd = nodata ?? NaN;
  const pal = stretch.palette;
  const mask = data.mask;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!, y = ys[i]!;
    if (!(x >= 0 && x < W && y >= 0 && y < H)) continue;
    let lx = Math.floor(x / sx) - data.x0;
    let ly = Math.floor(y / sy) - data.y0;
    if (lx < 0) lx = 0; else if (lx >= dw) lx = dw - 1;
    if (ly < 0) ly = 0; else if (ly >= dh) ly = dh - 1;
    const p = ly * dw + lx;
    if (mask && mask[p] === 0) continue;
    const v0 = b0[p]!, v1 = b1[p]!, v2 = b2[p]!;
    if (v0 !== v0 || v1 !== v1 || v2 !== v2) continue; // NaN
    if (v0 === nd && v1 === nd && v2 === nd) continue;
    const o = i * 4;
    if (pal) {
      const q = v0 * 3;
      if (q + 2 < pal.length) {
        out[o] = pal[q]!;
        out[o + 1] = pal[q + 1]!;
        out[o + 2] = pal[q + 2]!;
      }
    } else if (stretch.identity) {
      out[o] = v0;
      out[o + 1] = v1;
      out[o + 2] = v2;
    } else {
      out[o] = clamp255((v0 - lo0) * k0);
      out[o + 1] = clamp255((v1 - lo1) * k1);
      out[o + 2] = clamp255((v2 - lo2) * k2);
    }
    out[o + 3] = 255;
  }
  return true;
}

/** Uint8Array stores by truncation, so +0.5 rounds */
function clamp255(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
}
