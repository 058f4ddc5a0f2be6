import { dbOf, ndviOf, type RenderPlan } from './displayStretch.js';
import type { OpenImage } from './openImage.js';
import type { NumericArray } from './rasterSource.js';

/**
 * Nearest-neighbour sampling of an image at full-resolution pixel positions into 8-bit RGBA through a render
 * plan. Positions outside the image or NaN give alpha 0; so do pixels whose display bands all equal nodata,
 * that hold NaN, or that the file's internal mask marks invalid.
 * `srcPxPerOut` (full-res pixels per output pixel) picks the overview: the coarsest level still at least as fine.
 * Returns false when no position fell inside the image (nothing was read).
 */
export async function sampleRgba(
  img: OpenImage,
  xs: Float64Array,
  ys: Float64Array,
  srcPxPerOut: number,
  out: Uint8Array,
  plan: RenderPlan,
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
  const pad = plan.smooth || plan.hillshade ? 1 : 0;
  const win: [number, number, number, number] = [
    Math.max(0, Math.floor(minX / sx) - pad),
    Math.max(0, Math.floor(minY / sy) - pad),
    Math.min(lv.width, Math.floor(maxX / sx) + 1 + pad),
    Math.min(lv.height, Math.floor(maxY / sy) + 1 + pad),
  ];
  const data = await img.read(level, win, plan.bands);
  const dw = data.width, dh = data.height;
  const nb = data.bands.length;
  const b0 = data.bands[0]!;
  const b1 = data.bands[nb > 1 ? 1 : 0]!;
  const b2 = data.bands[nb > 2 ? 2 : 0]!;
  const ch = plan.lo.length;
  const lo0 = plan.lo[0]!, lo1 = plan.lo[ch > 1 ? 1 : 0]!, lo2 = plan.lo[ch > 2 ? 2 : 0]!;
  const k0 = 1 / (plan.hi[0]! - lo0);
  const k1 = 1 / (plan.hi[ch > 1 ? 1 : 0]! - lo1);
  const k2 = 1 / (plan.hi[ch > 2 ? 2 : 0]! - lo2);
  const invGamma = 1 / plan.gamma;
  const linear = plan.gamma === 1;
  const nd = nodata ?? NaN;
  const { palette: pal, lut, db, kind } = plan;
  const dbK = plan.dbScale ?? 1;
  const mask = data.mask;
  /** value of band array `b` at (lx, ly), optionally the 3×3 mean of valid neighbours */
  const at = (b: NumericArray, lx: number, ly: number): number => {
    if (!plan.smooth) return b[ly * dw + lx]!;
    let s = 0, c = 0;
    for (let yy = Math.max(0, ly - 1); yy <= Math.min(dh - 1, ly + 1); yy++) {
      for (let xx = Math.max(0, lx - 1); xx <= Math.min(dw - 1, lx + 1); xx++) {
        const v = b[yy * dw + xx]!;
        if (v === v && v !== nd) {
          s += v;
          c++;
        }
      }
    }
    return c ? s / c : NaN;
  };
  const tone = (t: number): number => {
    if (!(t > 0)) return 0;
    if (t >= 1) return 255;
    return (linear ? t : Math.pow(t, invGamma)) * 255 + 0.5; // Uint8Array truncates: +0.5 rounds
  };
  for (let i = 0; i < n; i++) {
    const x = xs[i]!, y = ys[i]!;
    if (!(x >= 0 && x < W && y >= 0 && y < H)) continue;
    let lx = Math.floor(x / sx) - data.x0;
    let ly = Math.floor(y / sy) - data.y0;
    if (lx < 0) lx = 0; else if (lx >= dw) lx = dw - 1;
    if (ly < 0) ly = 0; else if (ly >= dh) ly = dh - 1;
    const p = ly * dw + lx;
    if (mask && mask[p] === 0) continue;
    const r0 = b0[p]!, r1 = b1[p]!, r2 = b2[p]!;
    if (r0 !== r0 || r1 !== r1 || r2 !== r2) continue; // NaN
    if (r0 === nd && r1 === nd && r2 === nd) continue;
    const o = i * 4;
    out[o + 3] = 255;
    if (pal) {
      const q = r0 * 3;
      if (q + 2 < pal.length) {
        out[o] = pal[q]!;
        out[o + 1] = pal[q + 1]!;
        out[o + 2] = pal[q + 2]!;
      }
      continue;
    }
    if (kind === 'rgb') {
      let v0 = plan.smooth ? at(b0, lx, ly) : r0;
      let v1 = plan.smooth ? at(b1, lx, ly) : r1;
      let v2 = plan.smooth ? at(b2, lx, ly) : r2;
      if (db) {
        v0 = dbOf(v0) * dbK;
        v1 = dbOf(v1) * dbK;
        v2 = dbOf(v2) * dbK;
      }
      out[o] = tone((v0 - lo0) * k0);
      out[o + 1] = tone((v1 - lo1) * k1);
      out[o + 2] = tone((v2 - lo2) * k2);
      continue;
    }
    let v: number;
    if (kind === 'ndvi') {
      v = ndviOf(plan.smooth ? at(b0, lx, ly) : r0, plan.smooth ? at(b1, lx, ly) : r1);
      if (v !== v) {
        out[o + 3] = 0;
        continue;
      }
    } else {
      v = plan.smooth ? at(b0, lx, ly) : r0;
      if (db) v = dbOf(v) * dbK;
    }
    const g = v === v ? tone((v - lo0) * k0) : 0; // dB of a non-positive value shows as the darkest tone
    const f = plan.hillshade ? shade(b0, lx, ly, dw, dh, nd, plan.hillshade[0] * sx, plan.hillshade[1] * sy) : 1;
    if (lut) {
      const q = (g | 0) * 3;
      out[o] = lut[q]! * f;
      out[o + 1] = lut[q + 1]! * f;
      out[o + 2] = lut[q + 2]! * f;
    } else {
      out[o] = g * f;
      out[o + 1] = g * f;
      out[o + 2] = g * f;
    }
  }
  return true;
}

/** light from the north-west (azimuth 315°) at 45° altitude, in image axes (x right, y down, z up) */
const LIGHT = [-0.5, -0.5, Math.SQRT1_2] as const;

/**
 * Brightness factor (0.3–1) of a hillshade at (lx, ly) from the central differences of its neighbours (edges and
 * nodata neighbours fall back to the centre value); cell sizes in metres.
 */
function shade(b: NumericArray, lx: number, ly: number, dw: number, dh: number, nd: number, cx: number, cy: number): number {
  const c = b[ly * dw + lx]!;
  const v = (x: number, y: number): number => {
    if (x < 0 || y < 0 || x >= dw || y >= dh) return c;
    const t = b[y * dw + x]!;
    return t === t && t !== nd ? t : c;
  };
  const dzdx = (v(lx + 1, ly) - v(lx - 1, ly)) / (2 * cx);
  const dzdy = (v(lx, ly + 1) - v(lx, ly - 1)) / (2 * cy);
  const dot = (-dzdx * LIGHT[0] - dzdy * LIGHT[1] + LIGHT[2]) / Math.sqrt(dzdx * dzdx + dzdy * dzdy + 1);
  return 0.3 + 0.7 * Math.max(0, Math.min(1, dot / LIGHT[2]));
}
