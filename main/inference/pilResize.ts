/**
 * Pillow's Image.resize of 8-bit RGB (libImaging/Resample.c) with the BILINEAR or BICUBIC filter, bit for bit:
 * - bilinear: the resize SAM's ResizeLongestSide runs (torchvision's resize of a PIL image);
 * - bicubic (a = −0.5): the resize of transformers' CLIPImageProcessor (LLaVA-1.5, GeoChat views; viewResample.ts).
 * Antialiased when reducing: the filter's support grows with the scale, so a 4:1 reduction averages several source
 * pixels per axis instead of picking one (the tile renderer's nearest sampling differs from SAM's input by up to ~250
 * grey levels on speckled SAR). Same arithmetic as Pillow: per-axis coefficients in double over a support of
 * (filter support)·max(scale, 1), normalised, rounded to 22-bit fixed point; a horizontal pass (over the rows the
 * vertical pass reads) then a vertical pass, each rounded (floor of the fixed-point sum + ½) and clipped to 8 bits.
 * Verified against segment_anything's ResizeLongestSide and transformers' CLIPImageProcessor on real images
 * (native-models/exporter/fidelity/samFidelity.int.test.ts, clipPreprocess.int.test.ts).
 */
export type PilFilter = 'bilinear' | 'bicubic';

const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

const bilinear = (x: number): number => {
  const t = Math.abs(x);
  return t < 1 ? 1 - t : 0;
};

function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

const FILTERS: Record<PilFilter, { support: number; fn: (x: number) => number }> = {
  bilinear: { support: 1, fn: bilinear },
  bicubic: { support: 2, fn: bicubic },
};

interface Coeffs { ksize: number; bounds: Int32Array; kk: Int32Array }

function coeffs(inSize: number, outSize: number, filter: PilFilter): Coeffs {
  const { support: fs, fn } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = fs * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = fn((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

const clip8 = (s: number) => {
  const v = Math.floor(s / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/** RGB interleaved w×h → outW×outH, bit for bit Pillow's Image.resize((outW, outH), filter). */
export function resizePil(rgb: Uint8Array, w: number, h: number, outW: number, outH: number, filter: PilFilter): Uint8Array {
  if (rgb.length !== w * h * 3) throw new Error(`resizePil: ${rgb.length} bytes is not ${w}×${h} RGB`);
  if (outW === w && outH === h) return rgb.slice();
  const cv = coeffs(h, outH, filter);
  // rows the vertical pass reads (Pillow runs the horizontal pass only over them)
  const yFirst = outH === h ? 0 : cv.bounds[0]!;
  const yLast = outH === h ? h : cv.bounds[outH * 2 - 2]! + cv.bounds[outH * 2 - 1]!;
  let src = rgb, sw = w, rowOffset = 0;
  if (outW !== w) {
    const { ksize, bounds, kk } = coeffs(w, outW, filter);
    const tmp = new Uint8Array(outW * (yLast - yFirst) * 3);
    for (let y = yFirst; y < yLast; y++) {
      const row = y * w * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2]!, xmax = bounds[xx * 2 + 1]!, k0 = xx * ksize;
        let s0 = HALF, s1 = HALF, s2 = HALF;
        for (let x = 0; x < xmax; x++) {
          const k = kk[k0 + x]!, p = row + (x + xmin) * 3;
          s0 += rgb[p]! * k;
          s1 += rgb[p + 1]! * k;
          s2 += rgb[p + 2]! * k;
        }
        const o = ((y - yFirst) * outW + xx) * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
    src = tmp;
    sw = outW;
    rowOffset = yFirst;
  }
  if (outH === h) return src;
  const { ksize, bounds, kk } = cv;
  const out = new Uint8Array(sw * outH * 3);
  const stride = sw * 3;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]! - rowOffset, ymax = bounds[yy * 2 + 1]!, k0 = yy * ksize;
    for (let x = 0; x < stride; x++) {
      let s = HALF;
      for (let y = 0; y < ymax; y++) s += src[(y + ymin) * stride + x]! * kk[k0 + y]!;
      out[yy * stride + x] = clip8(s);
    }
  }
  return out;
}

/** RGB interleaved w×h → outW×outH, as Pillow's Image.resize((outW, outH), Image.BILINEAR). */
export const resizeBilinearPil = (rgb: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array =>
  resizePil(rgb, w, h, outW, outH, 'bilinear');

/** RGB interleaved w×h → outW×outH, as Pillow's Image.resize((outW, outH), Image.BICUBIC). */
export const resizeBicubicPil = (rgb: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array =>
  resizePil(rgb, w, h, outW, outH, 'bicubic');

/** SAM's pixel mean (SamPredictor pixel_mean) as 8-bit RGB: padding with it normalises to within 0.5 grey of 0 */
export const SAM_PAD_RGB = [124, 116, 104] as const;

/**
 * SamPredictor's image transform on an RGB image: ResizeLongestSide (long side → S, the other
 * ⌊side·S/long + 0.5⌋, Pillow bilinear) then padding to S×S at the bottom/right. SAM pads the normalised tensor with
 * 0; this pads with SAM's mean colour, which normalises to within 0.5 grey level of it.
 */
export function samResizeLongestSide(rgb: Uint8Array, w: number, h: number, S: number, pad: readonly number[] = SAM_PAD_RGB): { rgb: Uint8Array; width: number; height: number } {
  const sc = S / Math.max(w, h);
  const nw = Math.floor(w * sc + 0.5), nh = Math.floor(h * sc + 0.5);
  const r = resizeBilinearPil(rgb, w, h, nw, nh);
  if (nw === S && nh === S) return { rgb: r, width: nw, height: nh };
  const out = new Uint8Array(S * S * 3);
  for (let i = 0; i < S * S; i++) out.set(pad, i * 3);
  for (let y = 0; y < nh; y++) out.set(r.subarray(y * nw * 3, (y + 1) * nw * 3), y * S * 3);
  return { rgb: out, width: nw, height: nh };
}

/**
 * SamPredictor.set_image's encoder input for an RGB image: ResizeLongestSide (Pillow bilinear), (x/255 − mean)/std in
 * float32 as normalizeViews computes it, zero padding bottom/right → [3, S, S].
 */
export function samPixelValues(rgb: Uint8Array, w: number, h: number, S: number, mean: readonly number[], std: readonly number[]): { pixelValues: Float32Array; width: number; height: number } {
  const sc = S / Math.max(w, h);
  const nw = Math.floor(w * sc + 0.5), nh = Math.floor(h * sc + 0.5);
  const r = resizeBilinearPil(rgb, w, h, nw, nh);
  const out = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]!), s = Math.fround(std[c]!);
    for (let y = 0; y < nh; y++)
      for (let x = 0; x < nw; x++) out[c * S * S + y * S + x] = Math.fround(Math.fround(r[(y * nw + x) * 3 + c]! / 255) - m) / s;
  }
  return { pixelValues: out, width: nw, height: nh };
}
