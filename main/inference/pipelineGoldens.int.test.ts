import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemblePack } from '../../native-models/exporter/packAssembly.js';
import type { RegionGeometry } from '../contract/geometry.js';
import type { TaskMode } from '../contract/taskModes.js';
import { ImageryService } from '../imagery/imageryService.js';
import { renderChatPrompt, type AskMode, type ImageSource } from './chatPrompt.js';
import type { PackManifest } from './packManifest.js';
import { InferencePipeline, type MaskResult } from './pipeline.js';
import { rasterizeRegion } from './regionRaster.js';
import { testPackDir } from './testPackFixtures.js';
import { rasterizePolygons, vectorizeMask } from '../analysis/maskVectorizer.js';
import { PackTokenizer } from './tokenizer.js';
import { planViews, type Rect } from './viewPlanner.js';

/**
 * The whole pipeline against goldens that the PyTorch reference wrote from the contract's text
 * (native-models/testpack/pipeline_reference.py → reference_pipeline.json; never onnxruntime): view division,
 * region rasters, chat template + tokenisation with trimming, and every stage's tensors, greedy tokens and masks
 * for a 3-view question on a non-square image read through the real imagery engine.
 */

interface TensorGolden { shape: number[]; sum: number; absSum: number; values?: number[]; indices?: number[]; sha256?: string; lastRow?: number[] }
interface MaskGolden { score: number; positivePixels: number; bbox: number[] | null; rle: number[]; maskLogits: number[] }
/** a fine `<SEG>` mask (maskDetail 'views'): the composed N×N logits (stats + 1024 samples) and each sub-view's M×M */
interface FineMaskGolden extends TensorGolden { size: number; positivePixels: number; rle: number[]; score?: number; subViewMaskLogits: TensorGolden[] }
interface Golden {
  viewSpec: { size: number; maxViews: number; maxImagePixels: number };
  viewDivision: { width: number; height: number; regions: RegionGeometry[]; views: Rect[]; grid: { cols: number; rows: number }; roi: boolean }[];
  rasters: { rect: Rect; region: RegionGeometry; pixels: number; rle: number[] }[];
  chat: {
    mode: TaskMode; text: string; regions: number; source: ImageSource; history: ['user' | 'assistant', string][];
    maxNewTokens: number; imageExtraTokens: number; rendered: string; ids: number[]; droppedTurns: number;
  }[];
  multiView: {
    regions: RegionGeometry[];
    request: { mode: TaskMode; text: string; source: ImageSource; maxNewTokens: number };
    views: Rect[];
    viewRgbSha256: string[];
    pixelValues: TensorGolden;
    regionMasks: number[][];
    prompt: string;
    inputIds: number[];
    sequenceLength: number;
    visualTokens: TensorGolden;
    imageEmbeds: TensorGolden;
    regionEmbeds: TensorGolden;
    inputsEmbeds: TensorGolden;
    prefillLogits: TensorGolden;
    groundingPixelValues: TensorGolden;
    imageEmbeddings: TensorGolden;
    generatedIds: number[];
    generatedText: string;
    segMasks: MaskGolden[];
    fineMasks: FineMaskGolden[];
    instantMask: Omit<MaskGolden, 'maskLogits'> & { box: { x0: number; y0: number; x1: number; y1: number } };
  };
  smallObject: {
    image: { width: number; height: number };
    truth: { kind: 'circle'; cx: number; cy: number; r: number };
    truthPixels: number;
    request: { mode: TaskMode; text: string; source: ImageSource; maxNewTokens: number };
    views: Rect[];
    viewRgbSha256: string[];
    generatedIds: number[];
    generatedText: string;
    globalMask: { size: number; positivePixels: number; rle: number[]; score: number };
    fineMask: FineMaskGolden;
    iou: { global: number; fine: number };
    /** the global-view mask under manifest pixel.segHidden 'predicting' */
    predictingGlobalMask: { size: number; positivePixels: number; rle: number[]; score: number };
  };
  /** bitemporal mode (PACK_CONTRACT.md "Bitemporal mode") on the synthetic image (A) and a changed copy (B) */
  bitemporal: {
    imageB: { changes: string[] };
    regions: RegionGeometry[];
    request: { mode: AskMode; text: string; source: ImageSource; maxNewTokens: number };
    views: Rect[];
    viewRgbSha256A: string[];
    viewRgbSha256B: string[];
    prompt: string;
    inputIds: number[];
    sequenceLength: number;
    firstLogits: { top5: { ids: number[]; values: number[] }; lastRow: number[] };
    generatedIds: number[];
    generatedText: string;
    segMasks: { size: number; positivePixels: number; rle: number[]; score: number }[];
    fineMasks: { size: number; positivePixels: number; rle: number[]; score: number }[];
  };
}

const golden = JSON.parse(readFileSync(path.join(testPackDir, '..', 'reference_pipeline.json'), 'utf8')) as Golden;
const manifest = JSON.parse(readFileSync(path.join(testPackDir, 'manifest.json'), 'utf8')) as PackManifest;
const S = manifest.view.size;
const TOL = 1e-4;

/** Row-major run lengths of a 0/1 mask, starting with zeros (the golden's encoding). */
function rle(mask: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let cur = 0, n = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v !== cur) {
      runs.push(n);
      cur = v;
      n = 0;
    }
    n++;
  }
  runs.push(n);
  return runs;
}

const sha256 = (b: Uint8Array | Float32Array) => createHash('sha256').update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest('hex');

/** every element within TOL of the golden's full values (or its sampled indices), and the sums consistent */
function expectClose(name: string, got: Float32Array, want: TensorGolden): void {
  expect(got.length, `${name} size`).toBe(want.shape.reduce((a, b) => a * b, 1));
  let worst = 0, at = -1;
  const check = (i: number, w: number) => {
    const d = Math.abs(got[i]! - w);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  };
  if (want.values && !want.indices) want.values.forEach((w, i) => check(i, w));
  else want.indices!.forEach((i, k) => check(i, want.values![k]!));
  // the golden values are rounded to 6 decimals: half a unit of that is added to the tolerance
  expect(worst, `${name}: max |Δ| at flat index ${at}`).toBeLessThanOrEqual(TOL + 5e-7);
  if (Number.isNaN(want.sum)) return;
  let sum = 0, abs = 0;
  for (const v of got) {
    sum += v;
    abs += Math.abs(v);
  }
  expect(Math.abs(abs - want.absSum), `${name} absSum`).toBeLessThanOrEqual(TOL * Math.max(1, Math.sqrt(got.length)) + 1e-6 * want.absSum);
  expect(Math.abs(sum - want.sum), `${name} sum`).toBeLessThanOrEqual(TOL * Math.max(1, Math.sqrt(got.length)) + 1e-6 * want.absSum);
}

/**
 * The golden's synthetic image (conventions.image), rendered with the same integer formulas; `changed`: the
 * bitemporal pair's later image B (bitemporal.imageB: a white building added, part of the red one gone).
 */
function syntheticImage(W: number, H: number, changed = false): Uint8Array {
  const img = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let rgb = [60 + ((7 * x + 3 * y) % 31), 120 + ((5 * x + 11 * y) % 23), 50 + ((3 * x + 13 * y) % 19)];
      if (x >= 20 && x < 70 && y >= 25 && y < 60 && !(changed && x < 45)) rgb = [210, 40, 35];
      if ((x - 115) ** 2 + (y - 45) ** 2 <= 225) rgb = [240, 240, 240];
      if (changed && x >= 95 && x < 140 && y >= 68 && y < 86) rgb = [240, 240, 240];
      img.set(rgb, (y * W + x) * 3);
    }
  return img;
}

/**
 * Per describe block: the given RGB images written as PNGs and registered with a real ImageryService under their
 * ids, and a CPU pipeline on the test pack; both closed after the block.
 */
function imageFixture(prefix: string, images: Record<string, { rgb: Uint8Array; width: number; height: number }>) {
  const fx = {} as { tmp: string; imagery: ImageryService; pipeline: InferencePipeline };
  beforeAll(async () => {
    fx.tmp = mkdtempSync(path.join(tmpdir(), prefix));
    fx.imagery = new ImageryService({});
    for (const [id, { rgb, width, height }] of Object.entries(images)) {
      const file = path.join(fx.tmp, `${id}.png`);
      await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(file);
      await fx.imagery.register(id, file);
    }
    fx.pipeline = await InferencePipeline.create(testPackDir, { forced: 'cpu' });
  });
  afterAll(async () => {
    await fx.pipeline?.dispose();
    await fx.imagery?.close();
    rmSync(fx.tmp, { recursive: true, force: true });
  });
  return fx;
}

describe('pipeline goldens from the PyTorch reference', () => {
  it('divides images into the same views (aspect grids, ROI crops for images over maxImagePixels)', () => {
    expect(golden.viewSpec).toEqual({ size: S, maxViews: manifest.view.maxViews, maxImagePixels: manifest.view.maxImagePixels });
    expect(golden.viewDivision.some((c) => c.roi)).toBe(true);
    for (const c of golden.viewDivision) {
      const plan = planViews(c.width, c.height, golden.viewSpec, c.regions);
      expect({ views: plan.views, grid: plan.grid, roi: plan.roi }, `${c.width}×${c.height} with ${c.regions.length} regions`).toEqual({ views: c.views, grid: c.grid, roi: c.roi });
    }
  });

  it('rasterises all five region kinds to identical masks (global and ROI views)', () => {
    const kinds = new Set(golden.rasters.map((r) => r.region.kind));
    expect([...kinds].sort()).toEqual(['box', 'circle', 'point', 'polygon', 'scribble']);
    for (const r of golden.rasters) {
      const m = rasterizeRegion(r.region, r.rect, S);
      const label = `${r.region.kind} ${JSON.stringify(r.region)} in ${r.rect.join(',')}`;
      expect(m.reduce((a, b) => a + b, 0), label).toBe(r.pixels);
      expect(rle(m), label).toEqual(r.rle);
    }
  });

  it('renders the chat template, trims history to the budget and tokenises identically', async () => {
    const tok = await PackTokenizer.load(path.join(testPackDir, 'tokenizer.json'));
    expect(golden.chat.some((c) => c.droppedTurns >= 2)).toBe(true);
    for (const c of golden.chat) {
      const r = renderChatPrompt(
        manifest,
        { text: c.text, history: c.history.map(([role, text]) => ({ role, text })), source: c.source, mode: c.mode, regionCount: c.regions },
        { maxTokens: manifest.llm!.maxContext - c.maxNewTokens, imageExtraTokens: c.imageExtraTokens, countTokens: (t) => tok.encode(t).length },
      );
      expect(r.text).toBe(c.rendered);
      expect(r.droppedTurns, c.rendered).toBe(c.droppedTurns);
      expect(tok.encode(r.text), r.text).toEqual(c.ids);
    }
  });

  describe('a 3-view question on a 150×90 image, stage by stage', () => {
    const mv = golden.multiView;
    const W = 150, H = 90;
    const fx = imageFixture('vantage-goldens-', { synthetic: { rgb: syntheticImage(W, H), width: W, height: H } });

    it('views, preprocessing, every stage tensor, greedy tokens and masks match', async () => {
      const plan = planViews(W, H, golden.viewSpec, mv.regions);
      expect(plan.views).toEqual(mv.views);
      expect(plan.views.length).toBeGreaterThanOrEqual(3);
      // view pixels through the real imagery engine (PNG, default display): nearest at view-pixel centres
      const views = await Promise.all(plan.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('synthetic', rect, S, S) })));
      expect(views.map((v) => sha256(v.rgb))).toEqual(mv.viewRgbSha256);

      const masks: MaskResult[] = [];
      const r = await fx.pipeline.ask(
        { views, regions: mv.regions, text: mv.request.text, history: [], source: mv.request.source, mode: mv.request.mode, maxNewTokens: mv.request.maxNewTokens, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true, traceTensors: true, maskDetail: 'global' },
        { onToken: () => {}, onMask: (m) => masks.push(m) },
      );
      const t = r.trace!;
      const x = t.tensors!;
      // preprocessing: bit-identical float32 (same bytes in, float32 rounding at every step on both sides)
      expect(sha256(x.pixel_values)).toBe(mv.pixelValues.sha256);
      expect(x.grounding_pixel_values).toHaveLength(1);
      expect(sha256(x.grounding_pixel_values[0]!)).toBe(mv.groundingPixelValues.sha256);
      mv.regionMasks.forEach((want, k) => expect(rle(x.region_masks.subarray(k * S * S, (k + 1) * S * S)), `region mask ${k}`).toEqual(want));

      expect(t.prompt).toBe(mv.prompt);
      expect(t.inputIds).toEqual(mv.inputIds);
      expect(t.sequenceLength).toBe(mv.sequenceLength);
      expectClose('visual_tokens', x.visual_tokens, mv.visualTokens);
      expectClose('image_embeds', x.image_embeds, mv.imageEmbeds);
      expectClose('region_embeds', x.region_embeds, mv.regionEmbeds);
      expectClose('inputs_embeds', x.inputs_embeds, mv.inputsEmbeds);
      expectClose('prefill logits', x.prefill_logits, mv.prefillLogits);
      expectClose('prefill logits, last row', t.firstLogits, { shape: [mv.prefillLogits.lastRow!.length], sum: NaN, absSum: NaN, values: mv.prefillLogits.lastRow! });
      expect(x.image_embeddings).toHaveLength(1);
      expectClose('image_embeddings', x.image_embeddings[0]!, mv.imageEmbeddings);

      expect(t.generatedIds).toEqual(mv.generatedIds);
      expect(masks).toHaveLength(mv.segMasks.length);
      expect(x.mask_logits).toHaveLength(mv.segMasks.length);
      mv.segMasks.forEach((want, k) => {
        expectClose(`mask_logits ${k}`, x.mask_logits[k]!, { shape: [1, 1, S, S], sum: NaN, absSum: NaN, values: want.maskLogits });
        expect(rle(masks[k]!.data), `mask ${k}`).toEqual(want.rle);
        expect(Math.abs(masks[k]!.score - want.score)).toBeLessThanOrEqual(TOL);
        expect(masks[k]!.rect).toEqual(mv.views[0]);
      });

      // an instant mask (box alone) on the same global view: same binary mask, same score
      const b = mv.instantMask.box;
      const im = await fx.pipeline.instantMask(views[0]!, { kind: 'box', ...b });
      expect(rle(im.data)).toEqual(mv.instantMask.rle);
      expect(Math.abs(im.score - mv.instantMask.score)).toBeLessThanOrEqual(TOL);
    });

    it("fine <SEG> masks (maskDetail 'views', the default with sub-views): every view's logits and the composed mask match", async () => {
      const views = await Promise.all(mv.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('synthetic', rect, S, S) })));
      const V = views.length;
      const masks: MaskResult[] = [];
      const runsBefore = fx.pipeline.groundingStats.runs;
      const r = await fx.pipeline.ask(
        { views, regions: mv.regions, text: mv.request.text, history: [], source: mv.request.source, mode: mv.request.mode, maxNewTokens: mv.request.maxNewTokens, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true, traceTensors: true },
        { onToken: () => {}, onMask: (m) => masks.push(m) },
      );
      expect(r.trace!.generatedIds).toEqual(mv.generatedIds);
      // one grounding run per view at most (the global view's features are cached from the test above)
      expect(fx.pipeline.groundingStats.runs - runsBefore).toBeLessThanOrEqual(V - 1);
      const x = r.trace!.tensors!;
      expect(mv.fineMasks.length).toBeGreaterThan(0);
      expect(masks).toHaveLength(mv.fineMasks.length);
      expect(x.mask_logits).toHaveLength(mv.fineMasks.length * V);
      mv.fineMasks.forEach((want, k) => {
        expectClose(`global mask_logits ${k}`, x.mask_logits[k * V]!, { shape: [1, 1, S, S], sum: NaN, absSum: NaN, values: mv.segMasks[k]!.maskLogits });
        want.subViewMaskLogits.forEach((sv, v) => expectClose(`sub-view ${v + 1} mask_logits ${k}`, x.mask_logits[k * V + v + 1]!, sv));
        expectClose(`fine mask logits ${k}`, Float32Array.from(x.fine_mask_logits![k]!), want);
        expect(want.size).toBeGreaterThan(manifest.pixel!.maskSize);
        expect(masks[k]!.size, `fine mask ${k} size`).toBe(want.size);
        expect(rle(masks[k]!.data), `fine mask ${k}`).toEqual(want.rle);
        expect(Math.abs(masks[k]!.score - mv.segMasks[k]!.score), 'the global view gives the score').toBeLessThanOrEqual(TOL);
        expect(masks[k]!.rect).toEqual(mv.views[0]);
      });
    });
  });

  describe('a small object inside one sub-view: the fine mask is closer to the drawn shape than the global one', () => {
    const so = golden.smallObject;
    const { width: W, height: H } = so.image;
    const inTruth = (x: number, y: number) => (x - so.truth.cx) ** 2 + (y - so.truth.cy) ** 2 <= so.truth.r ** 2;
    const img = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        // conventions in reference_pipeline.json smallObject.image
        const rgb = inTruth(x, y) ? [240, 240, 240] : [40 + ((3 * x + 5 * y) % 13), 80 + ((11 * x + 2 * y) % 17), 160 + ((x + 7 * y) % 29)];
        img.set(rgb, (y * W + x) * 3);
      }
    const fx = imageFixture('vantage-goldens-small-', { small: { rgb: img, width: W, height: H } });

    /** the mask vectorised (as the app stores it), rasterised at image-pixel centres: IoU with the drawn disc, and the outline's area */
    function measure(m: MaskResult): { iou: number; area: number } {
      const [x0, y0, x1, y1] = m.rect;
      const polys = vectorizeMask({ width: m.size, height: m.size, data: m.data }, { x0, y0, sx: (x1 - x0) / m.size, sy: (y1 - y0) / m.size });
      const raster = rasterizePolygons(polys, W, H);
      let inter = 0, union = 0;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const a = raster[y * W + x] === 1, b = inTruth(x, y);
          if (a && b) inter++;
          if (a || b) union++;
        }
      let signed = 0;
      for (const poly of polys)
        for (const ring of poly) for (let i = 0; i + 1 < ring.length; i++) signed += ring[i]![0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * ring[i]![1]!;
      return { iou: inter / union, area: Math.abs(signed) / 2 };
    }

    it('global-only and fine masks match PyTorch; the fine one has the higher IoU and the truer area', async () => {
      const plan = planViews(W, H, golden.viewSpec, []);
      expect(plan.views).toEqual(so.views);
      const views = await Promise.all(plan.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('small', rect, S, S) })));
      expect(views.map((v) => sha256(v.rgb))).toEqual(so.viewRgbSha256);
      const ask = async (maskDetail: 'global' | 'views' | undefined) => {
        const masks: MaskResult[] = [];
        const r = await fx.pipeline.ask(
          { views, regions: [], text: so.request.text, history: [], source: so.request.source, mode: so.request.mode, maxNewTokens: so.request.maxNewTokens, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true, maskDetail },
          { onToken: () => {}, onMask: (m) => masks.push(m) },
        );
        expect(r.trace!.generatedIds).toEqual(so.generatedIds);
        expect(r.text).toBe(so.generatedText);
        expect(masks).toHaveLength(1);
        return masks[0]!;
      };
      const global = await ask('global');
      const fine = await ask(undefined);
      expect(global.size).toBe(so.globalMask.size);
      expect(rle(global.data)).toEqual(so.globalMask.rle);
      expect(fine.size).toBe(so.fineMask.size);
      expect(fine.size).toBe(2 * global.size);
      expect(rle(fine.data)).toEqual(so.fineMask.rle);
      expect(fine.rect).toEqual(global.rect);
      expect(fine.score).toBe(global.score);

      const g = measure(global), f = measure(fine);
      expect(g.iou).toBeCloseTo(so.iou.global, 6);
      expect(f.iou).toBeCloseTo(so.iou.fine, 6);
      expect(f.iou).toBeGreaterThan(g.iou + 0.05);
      expect(Math.abs(f.area - so.truthPixels)).toBeLessThan(Math.abs(g.area - so.truthPixels));
    });

    it("pixel.segHidden 'predicting' (LISA / GLaMM / GeoPixel) feeds the row whose logits produced <SEG>, as PyTorch does", async () => {
      const dir = assemblePack(testPackDir, path.join(fx.tmp, 'predicting'), {}, { pixel: { ...manifest.pixel, segHidden: 'predicting' } });
      const p = await InferencePipeline.create(dir, { forced: 'cpu' });
      try {
        const views = await Promise.all(so.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('small', rect, S, S) })));
        const masks: MaskResult[] = [];
        const r = await p.ask(
          { views, regions: [], text: so.request.text, history: [], source: so.request.source, mode: so.request.mode, maxNewTokens: so.request.maxNewTokens, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true, maskDetail: 'global' },
          { onToken: () => {}, onMask: (m) => masks.push(m) },
        );
        expect(r.trace!.generatedIds).toEqual(so.generatedIds); // the decoder is untouched by the convention
        expect(masks).toHaveLength(1);
        expect(rle(masks[0]!.data)).toEqual(so.predictingGlobalMask.rle);
        expect(rle(masks[0]!.data)).not.toEqual(so.globalMask.rle);
        expect(Math.abs(masks[0]!.score - so.predictingGlobalMask.score)).toBeLessThan(TOL);
      } finally {
        await p.dispose();
      }
    });

    it('rejects an unknown maskDetail', async () => {
      const views = await Promise.all(so.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('small', rect, S, S) })));
      await expect(
        fx.pipeline.ask(
          { views, regions: [], text: 'x', history: [], source: 'optical', mode: 'chat', maxNewTokens: 4, sampling: { temperature: 0, topP: 1, seed: 0 }, maskDetail: 'fine' as 'views' },
          { onToken: () => {}, onMask: () => {} },
        ),
      ).rejects.toThrow(/maskDetail must be 'global' or 'views'/);
    });
  });

  describe('bitemporal mode: a changed pair on one pixel grid (identity pair mapping), A block before B block', () => {
    const bt = golden.bitemporal;
    const W = 150, H = 90;
    const fx = imageFixture('vantage-goldens-pair-', { a: { rgb: syntheticImage(W, H), width: W, height: H }, b: { rgb: syntheticImage(W, H, true), width: W, height: H } });

    it('prompt, ids, sequence length, first-step top-5 logits, greedy ids, text and global/fine masks match PyTorch', async () => {
      const plan = planViews(W, H, golden.viewSpec, bt.regions);
      expect(plan.views).toEqual(bt.views);
      // A's views planned as usual; B's views are B's pixels over the same rects (the pair mapping is the identity)
      const views = await Promise.all(plan.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('a', rect, S, S) })));
      const viewsB = await Promise.all(plan.views.map(async (rect) => ({ rect, rgb: await fx.imagery.readRgb('b', rect, S, S) })));
      expect(views.map((v) => sha256(v.rgb))).toEqual(bt.viewRgbSha256A);
      expect(viewsB.map((v) => sha256(v.rgb))).toEqual(bt.viewRgbSha256B);
      bt.viewRgbSha256A.forEach((a, i) => expect(a, `view ${i} differs between A and B`).not.toBe(bt.viewRgbSha256B[i]));
      const V = views.length, N = manifest.view.tokens;
      expect(V).toBeGreaterThan(1);
      expect(bt.segMasks.length).toBeGreaterThan(0);
      expect(bt.fineMasks).toHaveLength(bt.segMasks.length);

      for (const maskDetail of ['global', 'views'] as const) {
        const masks: MaskResult[] = [];
        const q = bt.request;
        const r = await fx.pipeline.ask(
          { views, viewsB, regions: bt.regions, text: q.text, history: [], source: q.source, mode: q.mode, maxNewTokens: q.maxNewTokens, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true, maskDetail },
          { onToken: () => {}, onMask: (m) => masks.push(m) },
        );
        const t = r.trace!;
        expect(t.prompt).toBe(bt.prompt);
        expect(t.prompt).toContain('<optical> <image> <optical> <image> what changed in <region1> ?');
        expect(t.inputIds).toEqual(bt.inputIds);
        expect(t.sequenceLength).toBe(bt.sequenceLength);
        expect(t.sequenceLength).toBe(bt.inputIds.length + 2 * V * N - 2);
        const top5 = [...t.firstLogits.keys()].sort((i, j) => t.firstLogits[j]! - t.firstLogits[i]!).slice(0, 5);
        expect(top5, 'first-step top-5 ids').toEqual(bt.firstLogits.top5.ids);
        bt.firstLogits.top5.values.forEach((w, k) => expect(Math.abs(t.firstLogits[top5[k]!]! - w), `top-5 logit ${k}`).toBeLessThanOrEqual(TOL));
        expectClose('first-step logits', t.firstLogits, { shape: [bt.firstLogits.lastRow.length], sum: NaN, absSum: NaN, values: bt.firstLogits.lastRow });
        expect(t.generatedIds).toEqual(bt.generatedIds);
        expect(r.text).toBe(bt.generatedText);

        const want = maskDetail === 'global' ? bt.segMasks : bt.fineMasks;
        expect(masks, maskDetail).toHaveLength(want.length);
        want.forEach((w, k) => {
          expect(masks[k]!.size, `${maskDetail} mask ${k} size`).toBe(w.size);
          expect(rle(masks[k]!.data), `${maskDetail} mask ${k}`).toEqual(w.rle);
          expect(Math.abs(masks[k]!.score - w.score), `${maskDetail} mask ${k} score`).toBeLessThanOrEqual(TOL);
          expect(masks[k]!.rect, 'masks lie in A\'s global view').toEqual(bt.views[0]);
        });
      }
    });
  });
});
