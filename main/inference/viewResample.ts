import { resizeBicubicPil, samResizeLongestSide } from './pilResize.js';
import { padRectSquare, type Rect } from './viewPlanner.js';

export { padRectSquare, resizeBicubicPil };

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
/** how an instant mask's tile becomes the grounding input (manifest `grounding.preprocess`; samViewGeometry) */
export type InstantPreprocess = 'view' | 'sam';

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

/**
 * An instant mask's view for a pack with `grounding.preprocess: "sam"`: SamPredictor.set_image's input for the part of
 * `rect` inside the image. Its pixels are read at full resolution (decimated, nearest, when over
 * BICUBIC_MAX_SOURCE_PIXELS), their longest side resized to S with Pillow's bilinear (samResizeLongestSide: the
 * other side ⌊side·S/long + 0.5⌋ = n) and padded bottom/right to S×S with SAM's mean colour. The returned rect is the
 * padded square in image pixels, [x0, y0, x0 + w·S/nw, y0 + h·S/nh]: the view ↔ image mapping is then SAM's own
 * (apply_coords scales x by nw/w and y by nh/h; postprocess_masks crops the nw×nh input and stretches it to w×h).
 * `inside` is [nw, nh]: view pixels beyond it are padding (dropMaskPadding clears the mask cells there).
 * This gives the geometry: the image rect to read (`source`, at readW×readH) and the view's rect; the pixels are
 * samResizeLongestSide(read(source, readW, readH), readW, readH, S) (InstantMaskService.instantRun).
 */
export function samViewGeometry(width: number, height: number, rect: Rect, S: number): { source: Rect; readW: number; readH: number; rect: Rect; inside: [number, number] } {
  const x0 = Math.max(0, rect[0]), y0 = Math.max(0, rect[1]), x1 = Math.min(width, rect[2]), y1 = Math.min(height, rect[3]);
  if (!(x1 > x0 && y1 > y0)) throw new Error(`samViewGeometry: rect ${rect.join(',')} lies outside the ${width}×${height} image`);
  const w = x1 - x0, h = y1 - y0;
  const f = Math.max(1, Math.sqrt((w * h) / BICUBIC_MAX_SOURCE_PIXELS));
  const readW = Math.max(1, Math.round(w / f)), readH = Math.max(1, Math.round(h / f));
  // samResizeLongestSide's output size
  const sc = S / Math.max(readW, readH);
  const nw = Math.floor(readW * sc + 0.5), nh = Math.floor(readH * sc + 0.5);
  return { source: [x0, y0, x1, y1], readW, readH, rect: [x0, y0, x0 + (w * S) / nw, y0 + (h * S) / nh], inside: [nw, nh] };
}

/**
 * The grounding stage's view of `rect` at its own side G (manifest grounding.size): under grounding.preprocess "sam"
 * SamPredictor.set_image's input (samViewGeometry: rect = the padded square, `inside` = the image part), else the rect
 * read at G×G. Instant-mask tiles and an ask's grounding view (the global rect, for `<SEG>` masks and box prompts).
 */
export async function groundingViewOf(read: ReadRgb, width: number, height: number, rect: Rect, G: number, preprocess: InstantPreprocess): Promise<{ rect: Rect; rgb: Uint8Array; inside?: [number, number] }> {
  if (preprocess !== 'sam') return { rect, rgb: await read(rect, G, G) };
  const g = samViewGeometry(width, height, rect, G);
  return { rect: g.rect, rgb: samResizeLongestSide(await read(g.source, g.readW, g.readH), g.readW, g.readH, G).rgb, inside: g.inside };
}

/** Clears the cells of an M×M mask over an S×S view that lie wholly in the padding beyond `inside` (samViewGeometry). */
export function dropMaskPadding(data: Uint8Array, M: number, S: number, inside: readonly [number, number]): void {
  const cx = Math.ceil((inside[0] * M) / S), cy = Math.ceil((inside[1] * M) / S);
  if (cx >= M && cy >= M) return;
  for (let y = 0; y < M; y++) for (let x = 0; x < M; x++) if (x >= cx || y >= cy) data[y * M + x] = 0;
}
