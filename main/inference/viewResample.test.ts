import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planViews } from './viewPlanner.js';
import { BICUBIC_MAX_SOURCE_PIXELS, dropMaskPadding, padColour, padRectSquare, readViewRgb, resizeBicubicPil, samViewGeometry, type ReadRgb } from './viewResample.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '../../native-models/exporter/fidelity/clip_fixtures/clip_pil_bicubic.json');
type Case = { w: number; h: number; outW: number; outH: number; input: string; expected: string };
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe('Pillow bicubic resize (CLIP / LLaVA / GeoChat views)', () => {
  const { cases, pillow } = JSON.parse(readFileSync(fixture, 'utf8')) as { cases: Case[]; pillow: string };

  it(`equals Pillow ${pillow} Image.resize(BICUBIC) bit for bit: reducing, enlarging, mixed, odd sizes`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
    for (const c of cases) {
      const got = resizeBicubicPil(bytes(c.input), c.w, c.h, c.outW, c.outH);
      const want = bytes(c.expected);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
      expect(diff, `${c.w}×${c.h} → ${c.outW}×${c.outH}`).toBe(0);
    }
  });

  it('negative: a bicubic without the antialiasing support (fixed 4 taps) differs from Pillow when reducing', () => {
    const c = cases.find((x) => x.w > 2 * x.outW)!;
    // nearest-style decimation then the exact resize at scale ≤ 2: not what Pillow does
    const step = Math.floor(c.w / c.outW);
    const src = bytes(c.input);
    const dec = new Uint8Array(Math.ceil(c.w / step) * c.h * 3);
    const dw = Math.ceil(c.w / step);
    for (let y = 0; y < c.h; y++) for (let x = 0; x < dw; x++) dec.set(src.subarray((y * c.w + x * step) * 3, (y * c.w + x * step) * 3 + 3), (y * dw + x) * 3);
    const got = resizeBicubicPil(dec, dw, c.h, c.outW, c.outH);
    const want = bytes(c.expected);
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    expect(diff).toBeGreaterThan(1);
  });
});

describe('pad to square (expand2square)', () => {
  it('places the image as LLaVA / GeoChat paste it: ⌊(long − short)/2⌋ before', () => {
    expect(padRectSquare([0, 0, 512, 256])).toEqual([0, -128, 512, 384]);
    expect(padRectSquare([0, 0, 791, 718])).toEqual([0, -36, 791, 755]);
    expect(padRectSquare([0, 0, 300, 1098])).toEqual([-399, 0, 699, 1098]);
    expect(padRectSquare([10, 20, 30, 40])).toEqual([10, 20, 30, 40]);
    expect(padColour([0.48145466, 0.4578275, 0.40821073])).toEqual([122, 116, 104]);
  });

  it('planViews pads only the global view when the pack says so', () => {
    const spec = { size: 336, maxViews: 3, maxImagePixels: 1e8 };
    expect(planViews(512, 256, { ...spec, pad: 'square' }).views).toEqual([[0, -128, 512, 384], [0, 0, 256, 256], [256, 0, 512, 256]]);
    expect(planViews(512, 256, spec).views[0]).toEqual([0, 0, 512, 256]);
  });

  it('fills outside the image with the mean colour and reads only inside pixels', async () => {
    const reads: [number[], number, number][] = [];
    const read: ReadRgb = async (r, w, h) => {
      reads.push([r, w, h]);
      return new Uint8Array(w * h * 3).fill(200);
    };
    const rgb = await readViewRgb(read, 8, 4, padRectSquare([0, 0, 8, 4]), { size: 8, resample: 'bicubic', pad: 'square', mean: [0.5, 0.25, 0] });
    expect(reads).toEqual([[[0, 0, 8, 4], 8, 4]]);
    expect([...rgb.subarray(0, 3)]).toEqual([127, 63, 0]); // row 0 is padding
    expect([...rgb.subarray(8 * 3 * 3, 8 * 3 * 3 + 3)]).toEqual([200, 200, 200]); // row 3 is image
  });

  it('reads a rect over BICUBIC_MAX_SOURCE_PIXELS decimated, keeping the padding where it belongs', async () => {
    const reads: [number[], number, number][] = [];
    const read: ReadRgb = async (r, w, h) => {
      reads.push([r, w, h]);
      return new Uint8Array(w * h * 3).fill(255);
    };
    const rect = padRectSquare([0, 0, 8000, 4000]); // [0, −2000, 8000, 6000]
    const rgb = await readViewRgb(read, 8000, 4000, rect, { size: 100, resample: 'bicubic', pad: 'square', mean: [0, 0, 0] });
    const [[r, w, h]] = reads as [[number[], number, number]];
    expect(r).toEqual([0, 0, 8000, 4000]);
    expect(w * h * 2).toBeLessThanOrEqual(BICUBIC_MAX_SOURCE_PIXELS * 1.01);
    expect(w).toBe(2 * h);
    const at = (x: number, y: number) => rgb[(y * 100 + x) * 3]!;
    expect([at(50, 10), at(50, 50), at(50, 90)]).toEqual([0, 255, 0]); // pad, image, pad
  });
});

describe('grounding.preprocess "sam": the instant-mask view geometry (SamPredictor ResizeLongestSide + pad)', () => {
  it('reads the tile inside the image at full resolution; the view rect is the padded square, mapped as apply_coords', () => {
    // a 640×512 tile of a 740×600 image that sticks out at the bottom: 640×500 inside → 256×200 + padding
    const g = samViewGeometry(740, 600, [100, 100, 740, 612], 256);
    expect(g.source).toEqual([100, 100, 740, 600]);
    expect([g.readW, g.readH]).toEqual([640, 500]);
    expect(g.inside).toEqual([256, 200]);
    expect(g.rect).toEqual([100, 100, 740, 100 + (500 * 256) / 200]);
    // a point at image (420, 350) → view (x − x0)·nw/w, (y − y0)·nh/h
    expect(((420 - g.rect[0]) * 256) / (g.rect[2] - g.rect[0])).toBeCloseTo(((420 - 100) * 256) / 640, 12);
    expect(((350 - g.rect[1]) * 256) / (g.rect[3] - g.rect[1])).toBeCloseTo(((350 - 100) * 200) / 500, 12);
    // the short side rounds as ResizeLongestSide: ⌊512·256/640 + 0.5⌋ = 205
    expect(samViewGeometry(640, 512, [0, 0, 640, 512], 256).inside).toEqual([256, 205]);
  });

  it('decimates a tile over BICUBIC_MAX_SOURCE_PIXELS before the resize; a rect off the image is an error', () => {
    const g = samViewGeometry(10000, 10000, [0, 0, 8192, 4096], 1024);
    expect(g.readW * g.readH).toBeLessThanOrEqual(BICUBIC_MAX_SOURCE_PIXELS * 1.01);
    expect(g.inside).toEqual([1024, 512]);
    expect(g.rect).toEqual([0, 0, 8192, 8192]);
    expect(() => samViewGeometry(100, 100, [200, 200, 300, 300], 64)).toThrow(/outside/);
  });

  it('clears mask cells wholly in the padding, keeps cells the image reaches', () => {
    const M = 64, S = 256;
    const data = new Uint8Array(M * M).fill(1);
    dropMaskPadding(data, M, S, [256, 205]); // rows ≥ ⌈205·64/256⌉ = 52 are padding
    for (let y = 0; y < M; y++) expect(data[y * M + 10], `row ${y}`).toBe(y < 52 ? 1 : 0);
    const full = new Uint8Array(M * M).fill(1);
    dropMaskPadding(full, M, S, [256, 256]);
    expect(full.every((v) => v === 1)).toBe(true);
  });
});
