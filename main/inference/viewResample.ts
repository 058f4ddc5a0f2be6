import { padRectSquare, type Rect } from './viewPlanner.js';

export { padRectSquare };

/**
 * How a pack's views are made from the image (manifest `view.resample`, `view.pad`; PACK_CONTRACT.md "Views"):
 * - resample 'nearest' (contract v1 default): nearest neighbour at view-pixel centres, read by the tile engine;
 * - resample 'bicubic': the rect's pixels read at full resolution, then Pillow's Image.resize(BICUBIC) to S×S — the
 *   resize of transformers' CLIPImageProcessor (LLaVA-1.5, GeoChat), antialiased when reducing;
 * - pad 'square': the global view's rect is grown to a square around the image (expand2square of LLaVA-1.5 and
 *   GeoChat: the longer side, the shorter one centred, ⌊(long − short)/2⌋ before) and the part outside the image
 *   is filled with the pack's mean colour (⌊mean·255⌋ per channel), as their `pad` image_aspect_ratio does.
 * Verified against transformers' CLIPImageProcessor, LLaVA's and GeoChat's process_images on real images
 * (native-models/exporter/fidelity/clipPreprocess.int.test.ts).
 */
export type ViewResample = 'nearest' | 'bicubic';
export type ViewPad = 'none' | 'square';

export interface ViewPixelsSpec {
  size: number;
  resample: ViewResample;
  pad: ViewPad;
  mean: readonly number[];
}

/** Above this many pixels the rect is read decimated (nearest) to about this many before the bicubic resize. */
export const BICUBIC_MAX_SOURCE_PIXELS = 2048 * 2048;

/** The fill colour of pad 'square': tuple(int(x*255) for x in image_mean), as LLaVA's / GeoChat's expand2square. */
export const padColour = (mean: readonly number[]): number[] => mean.map((m) => Math.trunc(m * 255));

// ---- Pillow's libImaging/Resample.c for 8-bit RGB with the bicubic filter (a = −0.5): coefficients per output
// pixel in double over a support of 2·max(scale, 1), normalised, rounded to 22-bit fixed point; a horizontal pass then
// a vertical one, each rounded (floor of the fixed-point sum + ½) and clipped to 8 bits.
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function coeffs(inSize: number, outSize: number): { ksize: number; bounds: Int32Array; kk: Int32Array } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
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
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
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

/** RGB interleaved w×h → outW×outH, bit for bit Pillow's Image.resize((outW, outH), Image.BICUBIC). */
export function resizeBicubicPil(rgb: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array {
  if (rgb.length !== w * h * 3) throw new Error(`resizeBicubicPil: ${rgb.length} bytes is not ${w}×${h} RGB`);
  if (outW === w && outH === h) return rgb.slice();
  const cv = coeffs(h, outH);
  // rows the vertical pass reads (Pillow runs the horizontal pass only over them)
  const yFirst = outH === h ? 0 : cv.bounds[0]!;
  const yLast = outH === h ? h : cv.bounds[outH * 2 - 2]! + cv.bounds[outH * 2 - 1]!;
  let src = rgb, sw = w, rowOffset = 0;
  if (outW !== w) {
    const { ksize, bounds, kk } = coeffs(w, outW);
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

/** The port's view spec, or contract v1's (nearest, no padding) when it has none. */
export const viewPixelsOf = (host: { viewSize: number; viewPixels?: ViewPixelsSpec | undefined }): ViewPixelsSpec =>
  host.viewPixels ?? { size: host.viewSize, resample: 'nearest', pad: 'none', mean: [0, 0, 0] };

/** Reads image pixels: rect in image px (may extend outside; outside reads black) resampled to outW×outH. */
export type ReadRgb = (rect: Rect, outW: number, outH: number) => Promise<Uint8Array>;

/**
 * One view's S×S RGB for `rect` of a W×H image, as the pack's view spec says. 'nearest' is the tile engine's read;
 * 'bicubic' reads the part of the rect inside the image at full resolution (decimated when it exceeds
 * BICUBIC_MAX_SOURCE_PIXELS), places it on the rect's canvas (the rest: the pad colour for pad 'square', else black)
 * and resizes that with Pillow's bicubic.
 */
export async function readViewRgb(read: ReadRgb, width: number, height: number, rect: Rect, spec: ViewPixelsSpec): Promise<Uint8Array> {
  const S = spec.size;
  if (spec.resample !== 'bicubic') return read(rect, S, S);
  const [x0, y0, x1, y1] = rect;
  const f = Math.max(1, Math.sqrt(((x1 - x0) * (y1 - y0)) / BICUBIC_MAX_SOURCE_PIXELS));
  const cw = Math.max(1, Math.round((x1 - x0) / f)), ch = Math.max(1, Math.round((y1 - y0) / f));
  const canvas = new Uint8Array(cw * ch * 3);
  if (spec.pad === 'square') {
    const fill = padColour(spec.mean);
    for (let i = 0; i < cw * ch; i++) canvas.set(fill, i * 3);
  }
  const ix0 = Math.max(0, x0), iy0 = Math.max(0, y0), ix1 = Math.min(width, x1), iy1 = Math.min(height, y1);
  if (ix1 > ix0 && iy1 > iy0) {
    const px0 = Math.round((ix0 - x0) / f), py0 = Math.round((iy0 - y0) / f);
    const pw = Math.min(cw - px0, Math.max(1, Math.round((ix1 - ix0) / f))), ph = Math.min(ch - py0, Math.max(1, Math.round((iy1 - iy0) / f)));
    const part = await read([ix0, iy0, ix1, iy1], pw, ph);
    for (let y = 0; y < ph; y++) canvas.set(part.subarray(y * pw * 3, (y + 1) * pw * 3), ((py0 + y) * cw + px0) * 3);
  }
  return resizeBicubicPil(canvas, cw, ch, S, S);
}
