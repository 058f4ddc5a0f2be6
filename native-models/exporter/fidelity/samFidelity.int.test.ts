import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImageryService } from '../../../main/imagery/imageryService.js';
import { InferencePipeline } from '../../../main/inference/pipeline.js';
import type { InferencePort, InstantPrompt, ViewInput } from '../../../main/inference/protocol.js';
import type { InstantPreprocess } from '../../../main/inference/viewResample.js';
import type { ImageInfo } from '../../../main/contract/index.js';
import { InstantMaskService } from '../../../main/masks/instantMasks.js';
import { testPackDir } from '../../../main/inference/testPackFixtures.js';
import { resizeBilinearPil, samPixelValues, samResizeLongestSide } from '../../../main/inference/pilResize.js';
import { normalizeViews } from '../../../main/inference/viewPixels.js';
import { upsampleBilinear, type SegmentationPipeline } from '../../../main/inference/segmentation.js';
import { groundingViewOf } from '../../../main/inference/viewResample.js';
import { INSTANT_TILE_VIEWS, instantTile, type Rect } from '../../../main/inference/viewPlanner.js';
import { dataRequired, findData } from '../../../main/testing/dataRoot.js';
import { describeRequiring } from '../../../main/testing/data.js';
import { python } from '../../../main/testing/python.js';

/**
 * SAM fidelity: our exported SAM stages + the app's preprocessing and instant-mask path against
 * facebookresearch/segment-anything's own `SamPredictor` on real images (issue 14 item 2).
 *
 * The expected side is committed (sam_fixtures/<config>.json, written once by sam_upstream_fixtures.py, which imports
 * the upstream package): a seeded numpy checkpoint's state_dict names/shapes + seed + content sha256, and per real
 * image: SamPredictor.set_image's encoder input (statistics, 8×8 crops) for the app's full-resolution render,
 * and on the app's S×S view the image embedding (2048 sampled values, statistics, ±1 projections) and per prompt the
 * low-res logits, IoU prediction and final mask. Here: sam_export_ours.py rebuilds the same checkpoint (sha256 checked)
 * and exports it with our exporter; the views come from the app's ImageryService; the masks from
 * InferencePipeline.instantMask on a pack holding only our grounding + pixel stages.
 *
 * VANTAGE_SAM_CONFIG = ci (default: ViT-B widths/heads, 2 blocks, 256 px — CI) | vit_b (the true ViT-B at 1024 px,
 * with VANTAGE_SAM_FIXTURE=… generated here, too slow for CI) | vit_l_d4 | vit_h_d4.
 * VANTAGE_SAM_DUMP=DIR only writes the app's views for sam_upstream_fixtures.py (see README "Model fidelity").
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const CONFIG = process.env.VANTAGE_SAM_CONFIG ?? 'ci';
const SIZES: Record<string, number> = { ci: 256, vit_b: 1024, vit_l_d4: 1024, vit_h_d4: 1024 };
if (!SIZES[CONFIG]) throw new Error(`VANTAGE_SAM_CONFIG=${CONFIG}: not a SAM fidelity config`);
const S = SIZES[CONFIG];
/** the vision view of the grounding.size check's pack (a LLaVA/GeoChat-style view smaller than SAM's input) */
const VIEW_G = 64;
const fixtureFile = process.env.VANTAGE_SAM_FIXTURE ?? path.join(here, 'sam_fixtures', `${CONFIG}.json`);
const dumpDir = process.env.VANTAGE_SAM_DUMP;
/** the `<SEG>` projection's expected side (seg_upstream_fixtures.py: LISA's own code on the same views), when present */
const segFixtureFile = process.env.VANTAGE_SEG_FIXTURE ?? path.join(here, 'sam_fixtures', `${CONFIG}_seg.json`);
interface SegFixture {
  upstream: { repository: string; commit: string | null; lisaPySha256: string | null; torch: string };
  samFixture: { config: string; contentSha256: string };
  D: number;
  projSeed: number;
  projContentSha256: string;
  hidden: { index: number; values: string }[];
  S: number;
  maskSize: number;
  cases: { name: string; viewSha256: string; seg: { hidden: number; lowRes: string; iou: number; finalBits: string; finalFg: number; lowNearZero: number }[] }[];
}
const slow = CONFIG === 'ci' ? 300_000 : 1_800_000;

/** ImageNet mean/std: SamPredictor's pixel_mean/pixel_std ÷ 255, the grounding stats of a SAM pack */
const SAM_MEAN = [0.485, 0.456, 0.406];
const SAM_STD = [0.229, 0.224, 0.225];
/** CLIP's view statistics (the vision stage's): the "wrong mean/std" negative case */
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

interface CaseDef { name: string; file: string; prompts: InstantPrompt[] }
/** three kinds of imagery: aerial RGB (JPEG COG), SAR backscatter (float32, rendered), thermal UAV (not square) */
const ALL_CASES: CaseDef[] = [
  {
    name: 'aerial', file: 'imagery/optical_3857/cogeo.tif', prompts: [
      { kind: 'point', x: 530, y: 470 },
      { kind: 'box', x0: 300, y0: 280, x1: 760, y1: 700 },
      { kind: 'points', points: [{ x: 400, y: 600, label: 1 }, { x: 820, y: 180, label: 0 }] },
    ],
  },
  {
    name: 'sar', file: 'imagery/sar/S1B_RTC_Gamma0_VV_float32_cog_nodata_nan.tif', prompts: [
      { kind: 'point', x: 300, y: 260 },
      { kind: 'box', x0: 120, y0: 150, x1: 420, y1: 400 },
    ],
  },
  {
    name: 'thermal', file: 'imagery/thermal_ir_uav/1_100_40_0_02355.jpg', prompts: [
      { kind: 'point', x: 330, y: 250 },
      { kind: 'box', x0: 200, y0: 120, x1: 470, y1: 400 },
    ],
  },
];

/** VANTAGE_SAM_CASES=aerial,sar picks cases (the slow 1024-px configs here); CI runs them all */
const CASES = process.env.VANTAGE_SAM_CASES ? ALL_CASES.filter((c) => process.env.VANTAGE_SAM_CASES!.split(',').includes(c.name)) : ALL_CASES;

interface Stats { mean: number; std: number; absmax: number; rms: number }
interface FxPrompt { prompt: InstantPrompt; lowRes: string; iou: number; finalBits: string; finalFg: number; lowFg: number; lowNearZero: number; fullImageLowRes: string }
interface FxCase {
  name: string; file: string; rect: Rect; fullW: number; fullH: number; viewSha256: string; fullSha256: string;
  preprocessing: { inputSize: [number, number]; channelStats: Stats[]; crops: { x: number; y: number; values: string }[]; projections: number[] };
  viewInputStats: Stats[];
  embedding: { dims: number[]; index: number[]; values: string; stats: Stats; projections: number[] };
  prompts: FxPrompt[];
}
interface Fixture {
  upstream: { repository: string; commit: string; torch: string; torchvision: string; numpy: string };
  config: { name: string; embed_dim: number; depth: number; heads: number; global: number[]; img_size: number; grid: number; channels: number; maskSize: number };
  seed: number; contentSha256: string; fileSha256: string; params: number; S: number; cases: FxCase[];
}

const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const bitsOf = (b64: string, n: number) => {
  const b = Buffer.from(b64, 'base64');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (b[i >> 3]! >> (i & 7)) & 1;
  return out;
};
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** max |Δ| and max |Δ| ÷ rms(want) over paired values */
function compare(got: ArrayLike<number>, want: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0, ss = 0;
  for (let i = 0; i < want.length; i++) {
    abs = Math.max(abs, Math.abs(got[i]! - want[i]!));
    ss += want[i]! * want[i]!;
  }
  return { abs, rel: abs / Math.sqrt(ss / want.length) };
}

/** the fixture's ±1 projections (sam_upstream_fixtures.sign_projections) */
function signProjections(x: Float32Array, n = 8): number[] {
  const out: number[] = [];
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      const h = (Math.imul(i, -1640531535) + j * 40503) >>> 0;
      s += (h >>> 20) & 1 ? x[i]! : -x[i]!;
    }
    out.push(s / Math.sqrt(x.length));
  }
  return out;
}

/**
 * The preprocessing check: the largest difference, in grey levels, between SamPredictor's encoder input (crops) and
 * ours ([3,S,S] normalised with SAM's mean/std), and the channel statistics' differences (grey levels).
 */
function preprocessingError(pv: Float32Array, pre: FxCase['preprocessing']): { maxGrey: number; meanGrey: number } {
  let maxGrey = 0;
  for (const c of pre.crops) {
    const want = f32(c.values);
    for (let ch = 0; ch < 3; ch++)
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) {
          const d = Math.abs(pv[ch * S * S + (c.y + y) * S + c.x + x]! - want[ch * 64 + y * 8 + x]!) * SAM_STD[ch]! * 255;
          maxGrey = Math.max(maxGrey, d);
        }
  }
  let meanGrey = 0;
  for (let ch = 0; ch < 3; ch++) {
    let m = 0;
    for (let i = 0; i < S * S; i++) m += pv[ch * S * S + i]!;
    meanGrey = Math.max(meanGrey, Math.abs(m / (S * S) - pre.channelStats[ch]!.mean) * SAM_STD[ch]! * 255);
  }
  return { maxGrey, meanGrey };
}

const { paths: imagePaths, missing: dataMissing } = findData(CASES.map((c) => c.file));
const torchMissing = spawnSync(python, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' }).status === 0 ? null : `${python} cannot import torch, onnx and numpy (apt install python3-torch python3-onnx)`;
const fixtureMissing = existsSync(fixtureFile) || dumpDir ? null : `no SAM fixture ${fixtureFile} (sam_upstream_fixtures.py)`;
if (fixtureMissing && dataRequired()) throw new Error(fixtureMissing);

interface Live { c: CaseDef; id: string; rect: Rect; full: Uint8Array; fullW: number; fullH: number; view: Uint8Array; imageW: number; imageH: number }

describeRequiring(`SAM (${CONFIG}) vs facebookresearch/segment-anything on real images`, dataMissing ?? torchMissing ?? fixtureMissing, () => {
  let tmp: string;
  let imagery: ImageryService;
  let live: Live[] = [];
  let fx: Fixture;
  let exported: { contentSha256: string; fileSha256: string; segHidden: number | null; seconds: number };
  let segFx: SegFixture | null = null;
  let grounding: ort.InferenceSession;
  let pixel: ort.InferenceSession;
  let pipeline: InferencePipeline;
  /** the same SAM stages in a pack whose vision view is 64 px: grounding.size S (SAM's own input side) */
  let pipelineG: InferencePipeline;
  const embOf = new Map<string, Float32Array>();

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-sam-fidelity-'));
    imagery = new ImageryService({});
    live = [];
    for (const [i, c] of CASES.entries()) {
      const id = `sam-${c.name}`;
      const facts = await imagery.register(id, imagePaths[i]!);
      // the app's instant-mask tile for the first prompt (InstantMaskService.instantTileOf without a view span)
      const p = c.prompts[0]!;
      const b: Rect = p.kind === 'point' ? [p.x, p.y, p.x, p.y] : p.kind === 'box' ? [p.x0, p.y0, p.x1, p.y1] : [p.points[0]!.x, p.points[0]!.y, p.points[0]!.x, p.points[0]!.y];
      const rect = instantTile(facts.width, facts.height, S, b, INSTANT_TILE_VIEWS)!;
      const fullW = rect[2] - rect[0], fullH = rect[3] - rect[1];
      live.push({ c, id, rect, fullW, fullH, imageW: facts.width, imageH: facts.height, full: await imagery.readRgb(id, rect, fullW, fullH), view: await imagery.readRgb(id, rect, S, S) });
    }
    if (dumpDir) {
      mkdirSync(dumpDir, { recursive: true });
      for (const l of live) {
        writeFileSync(path.join(dumpDir, `${l.c.name}.full.rgb`), l.full);
        writeFileSync(path.join(dumpDir, `${l.c.name}.view.rgb`), l.view);
      }
      writeFileSync(path.join(dumpDir, 'cases.json'), JSON.stringify({
        S, cases: live.map((l) => ({ name: l.c.name, file: l.c.file, rect: l.rect, fullW: l.fullW, fullH: l.fullH, prompts: l.c.prompts, viewSha256: sha256(l.view), fullSha256: sha256(l.full) })),
      }, null, 1));
      return;
    }
    fx = JSON.parse(readFileSync(fixtureFile, 'utf8')) as Fixture;
    if (process.env.VANTAGE_SAM_CASES) fx.cases = fx.cases.filter((c) => CASES.some((d) => d.name === c.name));
    // VANTAGE_SAM_EXPORTED=DIR: a folder sam_export_ours.py already wrote (the 1024-px configs, exported once here)
    const out = process.env.VANTAGE_SAM_EXPORTED ?? path.join(tmp, 'export');
    segFx = existsSync(segFixtureFile) ? (JSON.parse(readFileSync(segFixtureFile, 'utf8')) as SegFixture) : null;
    if (!process.env.VANTAGE_SAM_EXPORTED) {
      const segArgs = segFx ? ['--seg', segFixtureFile] : [];
      const r = spawnSync(python, [path.join(here, 'sam_export_ours.py'), fixtureFile, out, ...segArgs], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new Error(`sam_export_ours.py failed:\n${r.stdout}\n${r.stderr}`);
    }
    exported = JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8')) as typeof exported;
    grounding = await ort.InferenceSession.create(path.join(out, 'grounding.onnx'), { executionProviders: ['cpu'] });
    pixel = await ort.InferenceSession.create(path.join(out, 'pixel.onnx'), { executionProviders: ['cpu'] });
    // a masks-only pack (grounding + pixel, nothing else) with SAM's geometry, run through the app's InferencePipeline
    const pack = path.join(tmp, 'pack');
    mkdirSync(pack);
    const base = JSON.parse(readFileSync(path.join(testPackDir, 'manifest.json'), 'utf8')) as Record<string, unknown> & { view: Record<string, unknown> };
    const stages: Record<string, { file: string; sha256: string; dtype: string }> = {};
    for (const st of ['grounding', 'pixel']) {
      copyFileSync(path.join(out, `${st}.onnx`), path.join(pack, `${st}.onnx`));
      stages[st] = { file: `${st}.onnx`, sha256: sha256(readFileSync(path.join(pack, `${st}.onnx`))), dtype: 'float32' };
    }
    const g = fx.config.grid;
    // the pixel stage's seg_hidden width: LISA's D when the <SEG> projection was exported with it
    const llm = { ...(base.llm as Record<string, unknown>), hidden: exported.segHidden ?? (base.llm as { hidden: number }).hidden };
    const manifest = {
      ...base, llm, name: `sam-fidelity-${CONFIG}`, modes: ['chat'], view: { ...base.view, size: S },
      grounding: { channels: fx.config.channels, grid: g, mean: SAM_MEAN, std: SAM_STD, preprocess: 'sam' },
      pixel: { maskSize: fx.config.maskSize }, stages, files: {},
      sizes: Object.fromEntries(Object.values(stages).map((e) => [e.file, statSync(path.join(pack, e.file)).size])),
    };
    writeFileSync(path.join(pack, 'manifest.json'), JSON.stringify(manifest, null, 2));
    pipeline = await InferencePipeline.create(pack, { forced: 'cpu' });
    const packG = path.join(tmp, 'pack-g');
    mkdirSync(packG);
    for (const st of ['grounding', 'pixel']) copyFileSync(path.join(pack, `${st}.onnx`), path.join(packG, `${st}.onnx`));
    writeFileSync(path.join(packG, 'manifest.json'), JSON.stringify({ ...manifest, name: `${manifest.name}-g`, view: { ...base.view, size: VIEW_G }, grounding: { ...manifest.grounding, size: S } }, null, 2));
    pipelineG = await InferencePipeline.create(packG, { forced: 'cpu' });
  }, slow);

  afterAll(async () => {
    await grounding?.release();
    await pixel?.release();
    await pipeline?.dispose();
    await pipelineG?.dispose();
    await imagery?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const embedCache = new Map<string, Float32Array>();
  /** our grounding.onnx (cached by input: the 1024-px configs run the true ViT-B on this 2-core machine) */
  const embed = async (pv: Float32Array) => {
    const key = sha256(new Uint8Array(pv.buffer, pv.byteOffset, pv.byteLength));
    const hit = embedCache.get(key);
    if (hit) return hit;
    const r = await grounding.run({ pixel_values: new ort.Tensor('float32', pv, [1, 3, S, S]) });
    const e = (r.image_embeddings!.data as Float32Array).slice();
    embedCache.set(key, e);
    return e;
  };
  const decode = async (emb: Float32Array, points: number[], labels: number[], seg?: Float32Array, hasSeg = seg ? 1 : 0) => {
    const g = fx.config.grid;
    const D = exported.segHidden ?? 64;
    const r = await pixel.run({
      image_embeddings: new ort.Tensor('float32', emb, [1, fx.config.channels, g, g]),
      seg_hidden: new ort.Tensor('float32', seg ?? new Float32Array(D), [1, D]),
      has_seg: new ort.Tensor('float32', Float32Array.from([hasSeg]), [1]),
      points: new ort.Tensor('float32', Float32Array.from(points), [1, labels.length, 2]),
      point_labels: new ort.Tensor('float32', Float32Array.from(labels), [1, labels.length]),
    });
    return { logits: (r.mask_logits!.data as Float32Array).slice(), score: (r.score!.data as Float32Array)[0]! };
  };
  /** the prompt in view pixels with labels, exactly as SegmentationPipeline.instantMask maps it */
  const viewPrompt = (p: InstantPrompt, rect: Rect) => {
    const vx = (x: number) => ((x - rect[0]) * S) / (rect[2] - rect[0]);
    const vy = (y: number) => ((y - rect[1]) * S) / (rect[3] - rect[1]);
    if (p.kind === 'point') return { points: [vx(p.x), vy(p.y)], labels: [1] };
    if (p.kind === 'box') return { points: [vx(Math.min(p.x0, p.x1)), vy(Math.min(p.y0, p.y1)), vx(Math.max(p.x0, p.x1)), vy(Math.max(p.y0, p.y1))], labels: [2, 3] };
    return { points: p.points.flatMap((q) => [vx(q.x), vy(q.y)]), labels: p.points.map((q) => q.label) };
  };

  it('dump mode: wrote the app views for sam_upstream_fixtures.py', () => {
    if (!dumpDir) return;
    console.log(`wrote ${live.length} cases to ${dumpDir}`);
  });
  if (dumpDir) return;

  it('same checkpoint and same pixels as the upstream run', () => {
    expect(exported.contentSha256, 'seeded numpy checkpoint').toBe(fx.contentSha256);
    expect(live.map((l) => l.c.name)).toEqual(fx.cases.map((c) => c.name));
    for (const [i, l] of live.entries()) {
      const c = fx.cases[i]!;
      expect(l.rect, c.name).toEqual(c.rect);
      expect(c.prompts.map((p) => p.prompt), c.name).toEqual(l.c.prompts);
      // the app's renderer / resampler must give the pixels SamPredictor saw (else regenerate the fixture)
      expect(sha256(l.full), `${c.name}: full render`).toBe(c.fullSha256);
      expect(sha256(l.view), `${c.name}: S×S view`).toBe(c.viewSha256);
    }
    console.log(`SAM ${CONFIG}: upstream ${fx.upstream.repository}@${fx.upstream.commit} (torch ${fx.upstream.torch}, torchvision ${fx.upstream.torchvision}); ${fx.params} params, seed ${fx.seed}, content sha256 ${fx.contentSha256}; our export ${exported.seconds} s`);
  });

  it('preprocessing: SamPredictor.set_image\'s input within one grey level (Pillow-bilinear ResizeLongestSide + pad in TS); nearest sampling, stretching and CLIP mean/std fail', async () => {
    const rows: string[] = [];
    for (const [i, l] of live.entries()) {
      const c = fx.cases[i]!;
      const rect: Rect = [0, 0, S, S];
      const sam = samResizeLongestSide(l.full, l.fullW, l.fullH, S);
      const exact = samPixelValues(l.full, l.fullW, l.fullH, S, SAM_MEAN, SAM_STD);
      expect([exact.height, exact.width], c.name).toEqual(c.preprocessing.inputSize);
      const ours = preprocessingError(exact.pixelValues, c.preprocessing);
      expect(ours.maxGrey, `${c.name}: our preprocessing`).toBeLessThanOrEqual(1.0001);
      // the same as an 8-bit view padded with SAM's mean colour (what a contract S×S RGB view can carry): ≤ 0.5 grey
      const padded = preprocessingError(normalizeViews([{ rect, rgb: sam.rgb }], S, SAM_MEAN, SAM_STD), c.preprocessing);
      expect(padded.maxGrey, `${c.name}: mean-colour padding`).toBeLessThanOrEqual(0.5);
      // negatives: the tile renderer's nearest sampling (readRgb(rect, S, S), the instant-mask view today), a
      // stretch to S×S instead of resize-longest-side + pad, and CLIP's mean/std must each fail the same check
      const nearest = preprocessingError(normalizeViews([{ rect, rgb: l.view }], S, SAM_MEAN, SAM_STD), c.preprocessing);
      const stretched = preprocessingError(normalizeViews([{ rect, rgb: resizeBilinearPil(l.full, l.fullW, l.fullH, S, S) }], S, SAM_MEAN, SAM_STD), c.preprocessing);
      const clip = preprocessingError(normalizeViews([{ rect, rgb: sam.rgb }], S, CLIP_MEAN, CLIP_STD), c.preprocessing);
      // (a tile already at S×S is not resampled: nearest = exact there)
      if (l.fullW !== S || l.fullH !== S) expect(nearest.maxGrey, `${c.name}: nearest sampling must fail`).toBeGreaterThan(1.0001);
      expect(clip.maxGrey, `${c.name}: CLIP mean/std must fail`).toBeGreaterThan(1.0001);
      if (l.fullW !== l.fullH) expect(stretched.maxGrey, `${c.name}: stretched (no padding) must fail`).toBeGreaterThan(1.0001);
      else expect(stretched.maxGrey, `${c.name}: square: stretch = resize`).toBe(ours.maxGrey);
      rows.push(`${c.name} ${l.fullW}×${l.fullH}→${c.preprocessing.inputSize.join('×')}: ours max ${ours.maxGrey.toFixed(3)} grey (channel means ${ours.meanGrey.toFixed(3)}), as an RGB view padded with the mean colour ${padded.maxGrey.toFixed(3)}; NEG nearest ${nearest.maxGrey.toFixed(1)} (means ${nearest.meanGrey.toFixed(2)}), stretched ${stretched.maxGrey.toFixed(1)}, CLIP mean/std ${clip.maxGrey.toFixed(1)}`);
    }
    console.log(`SAM ${CONFIG} preprocessing vs SamPredictor.set_image's encoder input (max |Δ| over ${fx.cases[0]!.preprocessing.crops.length} 8×8 crops, padding included):\n  ${rows.join('\n  ')}`);
  }, slow);

  it('image embeddings ≤ 1e-4 (same S×S view into SamPredictor and our grounding.onnx)', async () => {
    const rows: string[] = [];
    for (const [i, l] of live.entries()) {
      const c = fx.cases[i]!;
      const pv = normalizeViews([{ rect: l.rect, rgb: l.view }], S, SAM_MEAN, SAM_STD);
      const emb = await embed(pv);
      embOf.set(c.name, emb);
      const e = compare(c.embedding.index.map((k) => emb[k]!), f32(c.embedding.values));
      const p = compare(signProjections(emb), c.embedding.projections);
      expect(emb.length).toBe(c.embedding.dims.reduce((a, b) => a * b, 1));
      expect(e.abs, `${c.name}: embedding`).toBeLessThanOrEqual(1e-4);
      expect(p.abs, `${c.name}: embedding projections`).toBeLessThanOrEqual(1e-4);
      // negative (CI config; one more encoder run per image): CLIP's mean/std instead of SAM's fails the tolerance
      let neg = '';
      if (CONFIG === 'ci') {
        const bad = await embed(normalizeViews([{ rect: l.rect, rgb: l.view }], S, CLIP_MEAN, CLIP_STD));
        const eb = compare(c.embedding.index.map((k) => bad[k]!), f32(c.embedding.values));
        expect(eb.abs, `${c.name}: wrong mean/std must fail`).toBeGreaterThan(1e-4);
        neg = `; NEG CLIP mean/std ${eb.abs.toExponential(2)}`;
      }
      rows.push(`${c.name}: max |Δ| ${e.abs.toExponential(2)} (rel ${e.rel.toExponential(2)} of rms ${c.embedding.stats.rms.toFixed(3)}) over ${c.embedding.index.length} sampled values; ±1 projections ${p.abs.toExponential(2)}${neg}`);
    }
    console.log(`SAM ${CONFIG} image embeddings [${fx.cases[0]!.embedding.dims.join(',')}]:\n  ${rows.join('\n  ')}`);
  }, slow);

  it('end to end: our TS preprocessing + our ONNX stages on the full-resolution image = SamPredictor.set_image + predict (logits ≤ 1e-4, masks equal where |logit| ≥ 1e-3)', async () => {
    const rows: string[] = [];
    const M = fx.config.maskSize;
    for (const [i, l] of live.entries()) {
      const c = fx.cases[i]!;
      const { pixelValues, width, height } = samPixelValues(l.full, l.fullW, l.fullH, S, SAM_MEAN, SAM_STD);
      const emb = await embed(pixelValues);
      // SamPredictor's apply_coords: x · new_w / old_w, y · new_h / old_h
      const sx = width / l.fullW, sy = height / l.fullH;
      for (const p of c.prompts) {
        const { points, labels } = viewPrompt(p.prompt, l.rect);
        const mapped = points.map((v, k) => (k % 2 === 0 ? (v * (l.rect[2] - l.rect[0])) / S * sx : (v * (l.rect[3] - l.rect[1])) / S * sy));
        const want = f32(p.fullImageLowRes);
        const ours = await decode(emb, mapped, labels);
        const d = compare(ours.logits, want);
        let mism = 0, excluded = 0;
        for (let k = 0; k < M * M; k++) {
          if (Math.abs(want[k]!) < 1e-3) excluded++;
          else if ((ours.logits[k]! > 0) !== (want[k]! > 0)) mism++;
        }
        expect(d.abs, `${c.name} ${p.prompt.kind}: end-to-end low-res logits`).toBeLessThanOrEqual(1e-4);
        expect(mism, `${c.name} ${p.prompt.kind}: end-to-end mask`).toBe(0);
        rows.push(`${c.name} ${p.prompt.kind}: |Δlogit| ${d.abs.toExponential(2)} (rel ${d.rel.toExponential(2)}), mask ${mism} differing / ${excluded} |logit|<1e-3`);
      }
    }
    console.log(`SAM ${CONFIG} end to end from the full-resolution render (low-res ${M}²):\n  ${rows.join('\n  ')}`);
  }, slow);

  /**
   * The app's own instant-mask path (InstantMaskService.instantRun: tile read, view built, prompt and mask mapped)
   * over the in-process InferencePipeline, for a pack whose manifest says `grounding.preprocess` = `preprocess`;
   * records the grounding input the pipeline normalises (as SegmentationPipeline.groundingFeatures does).
   */
  const appInstant = (preprocess: InstantPreprocess, on: { pipeline: InferencePipeline; viewSize: number } = { pipeline, viewSize: S }) => {
    const inputs: Float32Array[] = [];
    const host = {
      viewSize: on.viewSize,
      groundingSize: S,
      instantPreprocess: preprocess,
      instantMask: (v: ViewInput, p: InstantPrompt) => {
        // pixel_values as SegmentationPipeline makes them: normalised, zero beyond `inside` (SAM's padding)
        const pv = normalizeViews([v], S, SAM_MEAN, SAM_STD);
        const [w, h] = v.inside ?? [S, S];
        for (let c = 0; c < 3; c++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (x >= w || y >= h) pv[c * S * S + y * S + x] = 0;
        inputs.push(pv);
        return on.pipeline.instantMask(v, p);
      },
    } as Partial<InferencePort> as InferencePort;
    const service = new InstantMaskService(null as never, imagery, null as never, host);
    return { inputs, run: (l: Live, p: InstantPrompt) => service.instantRun({ id: l.id, width: l.imageW, height: l.imageH } as ImageInfo, p as Parameters<InstantMaskService['instantRun']>[1], l.rect, null) };
  };

  it('grounding.preprocess "sam": the app\'s instant-mask path gives SamPredictor\'s input (≤ 1 grey) and its masks (0 cells differ where |logit| ≥ 1e-3); the default (nearest, stretched) path fails both', async () => {
    const rows: string[] = [];
    const M = fx.config.maskSize;
    const sam = appInstant('sam'), view = appInstant('view');
    let viewFailures = 0;
    for (const [i, l] of live.entries()) {
      const c = fx.cases[i]!;
      for (const p of c.prompts) {
        if (p.prompt.kind === 'points') continue; // InstantMaskService takes a point or a box
        // SAM's mask on the S×S input: the full-image low-res logits upsampled (torch's bilinear, which
        // upsampleBilinear reproduces: next test, against SAM's own final masks), cropped to the unpadded input
        const want = upsampleBilinear(f32(p.fullImageLowRes), M, S);
        const [wx, wy] = c.preprocessing.inputSize.slice().reverse() as [number, number];
        const differ = (data: Uint8Array) => {
          expect(data.length).toBe(S * S);
          let mism = 0;
          for (let y = 0; y < wy; y++) for (let x = 0; x < wx; x++) if (Math.abs(want[y * S + x]!) >= 1e-3 && data[y * S + x]! !== (want[y * S + x]! > 0 ? 1 : 0)) mism++;
          return mism;
        };
        const a = await sam.run(l, p.prompt);
        const pre = preprocessingError(sam.inputs.at(-1)!, c.preprocessing);
        expect(pre.maxGrey, `${c.name} ${p.prompt.kind}: sam preprocess input`).toBeLessThanOrEqual(1.0001);
        const mism = differ(a.m.data);
        expect(mism, `${c.name} ${p.prompt.kind}: sam preprocess mask`).toBe(0);
        // the mask's rect is the padded square from the tile's corner
        expect(a.m.rect[0]).toBe(l.rect[0]);
        expect(a.m.rect[1]).toBe(l.rect[1]);
        // negative: the default path (the tile resampled to S×S, nearest) must fail the same checks
        const b = await view.run(l, p.prompt);
        const preN = preprocessingError(view.inputs.at(-1)!, c.preprocessing);
        const mismN = differ(b.m.data);
        if (l.fullW !== S || l.fullH !== S) {
          expect(preN.maxGrey, `${c.name} ${p.prompt.kind}: nearest input must fail`).toBeGreaterThan(1.0001);
          if (mismN > 0) viewFailures++;
        }
        rows.push(`${c.name} ${l.fullW}×${l.fullH} ${p.prompt.kind}: input max ${pre.maxGrey.toFixed(3)} grey, mask ${mism} differing / ${wx * wy} cells; NEG default path ${preN.maxGrey.toFixed(1)} grey, ${mismN} cells differ`);
      }
    }
    expect(viewFailures, 'the default path must give a different mask somewhere').toBeGreaterThan(0);
    console.log(`SAM ${CONFIG} app instant-mask path with grounding.preprocess "sam" (masks at ${S}²):\n  ${rows.join('\n  ')}`);
  }, slow);

  it(`grounding.size: a pack whose vision view is ${VIEW_G} px runs SAM on its own ${S}-px input — instant masks as the "sam" path's, a <SEG> on the ask's grounding view (groundingViewOf) as on SAM's input; the ${VIEW_G}-px view resized instead fails`, async () => {
    const rows: string[] = [];
    const same = appInstant('sam'), small = appInstant('sam', { pipeline: pipelineG, viewSize: VIEW_G });
    const segOf = (p: InferencePipeline) => (p as unknown as { segmentation: SegmentationPipeline }).segmentation;
    const D = exported.segHidden ?? 64;
    const h = Float32Array.from({ length: D }, (_, k) => Math.sin(k * 0.37) * 0.5);
    let negDiffer = 0;
    for (const l of live) {
      const prompts = l.c.prompts.filter((p) => p.kind !== 'points');
      for (const p of prompts) {
        const a = await same.run(l, p as InstantPrompt), b = await small.run(l, p as InstantPrompt);
        expect(b.m.size, `${l.c.name} ${p.kind}`).toBe(a.m.size);
        expect(b.m.rect, `${l.c.name} ${p.kind}: rect`).toEqual(a.m.rect);
        expect(b.m.data.every((v, k) => v === a.m.data[k]), `${l.c.name} ${p.kind}: the same mask`).toBe(true);
      }
      // a <SEG>: the ask's grounding view is SAM's input of the global rect (chatService builds it with groundingViewOf)
      const read = (r: Rect, w: number, hh: number) => imagery.readRgb(l.id, r, w, hh);
      const gv = { ...(await groundingViewOf(read, l.imageW, l.imageH, l.rect, S, 'sam')), key: `${l.c.name}:g` };
      const view = { rect: l.rect, rgb: await imagery.readRgb(l.id, l.rect, VIEW_G, VIEW_G), key: `${l.c.name}:v` };
      const want = await segOf(pipeline).segMask([{ ...gv, rgb: gv.rgb.slice() }], h, false, () => undefined);
      const got = await segOf(pipelineG).segMask([view], h, true, () => undefined, { ...gv, rgb: gv.rgb.slice() });
      expect(got.size).toBe(S);
      expect(got.rect).toEqual(gv.rect);
      expect(got.data.every((v, k) => v === want.data[k]), `${l.c.name} <SEG>: the mask on SAM's input`).toBe(true);
      // negative: no grounding view, so the 64-px vision view is resized to S for SAM
      const neg = await segOf(pipelineG).segMask([view], h, false, () => undefined);
      const differ = neg.data.reduce((n, v, k) => n + (v !== want.data[k] ? 1 : 0), 0);
      if (differ > 0) negDiffer++;
      const fg = want.data.reduce((n, v) => n + v, 0) / want.data.length;
      rows.push(`${l.c.name}: ${prompts.length} instant masks equal; <SEG> mask equal (${(100 * fg).toFixed(1)} % fg); NEG ${VIEW_G}-px view resized: ${differ} of ${S * S} cells differ`);
    }
    expect(negDiffer, 'resizing the vision view must change some <SEG> mask').toBeGreaterThan(0);
    console.log(`SAM ${CONFIG} behind a ${VIEW_G}-px vision view (grounding.size ${S}):\n  ${rows.join('\n  ')}`);
  }, slow);

  it('low-res mask logits ≤ 1e-4, IoU prediction, and the app\'s instant masks equal SAM\'s except where |logit| < 1e-3', async () => {
    const rows: string[] = [];
    const M = fx.config.maskSize;
    for (const [i, l] of live.entries()) {
      const c = fx.cases[i]!;
      const emb = embOf.get(c.name) ?? (await embed(normalizeViews([{ rect: l.rect, rgb: l.view }], S, SAM_MEAN, SAM_STD)));
      for (const p of c.prompts) {
        const want = f32(p.lowRes);
        const { points, labels } = viewPrompt(p.prompt, l.rect);
        const ours = await decode(emb, points, labels);
        const d = compare(ours.logits, want);
        const iouErr = Math.abs(ours.score - Math.min(1, Math.max(0, p.iou)));
        expect(d.abs, `${c.name} ${p.prompt.kind}: low-res logits`).toBeLessThanOrEqual(1e-4);
        expect(iouErr, `${c.name} ${p.prompt.kind}: IoU prediction (clamped to 0..1 by the contract)`).toBeLessThanOrEqual(1e-4);
        // SAM's final mask is non-trivial (random weights can give empty masks: prompts were picked so they don't)
        expect(p.finalFg, `${c.name} ${p.prompt.kind}: foreground`).toBeGreaterThan(0.05);
        expect(p.finalFg, `${c.name} ${p.prompt.kind}: foreground`).toBeLessThan(0.95);
        // the app's path: InstantMaskService's view → InferencePipeline.instantMask (normalise, grounding, pixel,
        // SAM's postprocess: logits upsampled to S×S, > 0) vs SamPredictor's final mask (its own F.interpolate)
        const m = await pipeline.instantMask({ rect: l.rect, rgb: l.view.slice(), key: `${c.name}` }, p.prompt);
        expect(m.size).toBe(S);
        const fin = bitsOf(p.finalBits, S * S);
        const up = upsampleBilinear(want, M, S); // only to leave out the cells SAM itself puts within 1e-3 of 0
        let mism = 0, excluded = 0, oldWay = 0;
        const f = S / M;
        for (let y = 0; y < S; y++)
          for (let x = 0; x < S; x++) {
            const k = y * S + x;
            if (Math.abs(up[k]!) < 1e-3) {
              excluded++;
              continue;
            }
            if (m.data[k] !== fin[k]) mism++;
            // negative: thresholding the low-res logits first (the app before SAM's postprocess) must differ
            if ((want[Math.floor(y / f) * M + Math.floor(x / f)]! > 0 ? 1 : 0) !== fin[k]) oldWay++;
          }
        expect(mism, `${c.name} ${p.prompt.kind}: app mask vs SAM's final mask`).toBe(0);
        expect(oldWay, `${c.name} ${p.prompt.kind}: low-res threshold then nearest must differ from SAM's final mask`).toBeGreaterThan(0);
        expect(Math.abs(m.score - Math.min(1, Math.max(0, p.iou)))).toBeLessThanOrEqual(1e-4);
        // end to end (square tiles): SamPredictor on the full-resolution render vs the app's mask
        let e2e = '';
        if (l.fullW === l.fullH) {
          const fl = upsampleBilinear(f32(p.fullImageLowRes), M, S);
          let same = 0, counted = 0;
          for (let k = 0; k < S * S; k++) {
            if (Math.abs(fl[k]!) < 1e-3) continue;
            counted++;
            if ((fl[k]! > 0 ? 1 : 0) === m.data[k]) same++;
          }
          e2e = `; from the full-res image ${(100 * same / counted).toFixed(2)} % of ${S}² cells equal (max |Δlogit| ${compare(ours.logits, f32(p.fullImageLowRes)).abs.toFixed(3)})`;
        }
        // negatives: dropping SAM's +0.5 pixel-centre offset, or swapping the box corners' labels, must fail
        const shifted = await decode(emb, points.map((v) => v - 0.5), labels);
        const dn = compare(shifted.logits, want).abs;
        expect(dn, `${c.name} ${p.prompt.kind}: no +0.5 must fail`).toBeGreaterThan(1e-4);
        let neg = `NEG no +0.5 ${dn.toExponential(1)}`;
        if (p.prompt.kind === 'box') {
          const sw = compare((await decode(emb, points, [3, 2])).logits, want).abs;
          expect(sw, `${c.name}: swapped box labels must fail`).toBeGreaterThan(1e-4);
          neg += `, swapped corners ${sw.toExponential(1)}`;
        }
        rows.push(`${c.name} ${p.prompt.kind}: |Δlogit| ${d.abs.toExponential(2)} (rel ${d.rel.toExponential(2)}), IoU ${p.iou.toFixed(4)} |Δ| ${iouErr.toExponential(1)}, fg ${(100 * p.finalFg).toFixed(1)} %, app mask vs SAM's final ${S}² mask ${mism} differing / ${excluded} |logit|<1e-3 of ${S * S}; NEG low-res threshold ${oldWay} differing${e2e}; ${neg}`);
      }
    }
    console.log(`SAM ${CONFIG} masks (low-res ${M}², fixture vs ours):\n  ${rows.join('\n  ')}`);
  }, slow);
  it('<SEG> projection: the pixel stage with has_seg = 1 equals LISA\'s own text_hidden_fcs → prompt encoder (text_embeds) → mask decoder → postprocess_masks (logits ≤ 1e-4; masks through the app\'s segMask); has_seg = 0, a sign-flipped state and a pad token fail', async (ctx) => {
    if (!segFx) {
      ctx.skip(`no ${segFixtureFile} (seg_upstream_fixtures.py with LISA's model/ on PYTHONPATH)`);
      return;
    }
    const sx = segFx;
    expect(sx.samFixture.contentSha256, 'the <SEG> fixture was made on this SAM fixture\'s checkpoint').toBe(fx.contentSha256);
    expect(exported.segHidden).toBe(sx.D);
    const M = fx.config.maskSize;
    expect(sx.maskSize).toBe(M);
    const hidden = new Map(sx.hidden.map((h) => [h.index, f32(h.values)]));
    // the app's path for a <SEG>: SegmentationPipeline.segMask on the answer's global view (not fine)
    const seg = (pipeline as unknown as { segmentation: { segMask: (v: ViewInput[], h: Float32Array, fine: boolean, abort: () => void) => Promise<{ data: Uint8Array; size: number; score: number }> } }).segmentation;
    const rows: string[] = [];
    for (const [i, l] of live.entries()) {
      const c = sx.cases[i]!;
      expect(c.name).toBe(l.c.name);
      expect(sha256(l.view), `${c.name}: the view LISA's SAM saw`).toBe(c.viewSha256);
      const emb = embOf.get(c.name) ?? (await embed(normalizeViews([{ rect: l.rect, rgb: l.view }], S, SAM_MEAN, SAM_STD)));
      for (const e of c.seg) {
        const h = hidden.get(e.hidden)!;
        const want = f32(e.lowRes);
        // the app's <SEG> call: one −1 point (not a token), has_seg = 1
        const ours = await decode(emb, [0, 0], [-1], h);
        const d = compare(ours.logits, want);
        expect(d.abs, `${c.name} <SEG> #${e.hidden}: low-res logits`).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(ours.score - Math.min(1, Math.max(0, e.iou))), `${c.name} <SEG> #${e.hidden}: IoU`).toBeLessThanOrEqual(1e-4);
        // the mask as the chat draws it: logits upsampled to S×S as postprocess_masks does, then > 0
        const m = await seg.segMask([{ rect: l.rect, rgb: l.view.slice(), key: `${c.name}` }], h, false, () => undefined);
        expect(m.size).toBe(S);
        const fin = bitsOf(e.finalBits, S * S);
        const up = upsampleBilinear(want, M, S);
        let mism = 0, excluded = 0;
        for (let k = 0; k < S * S; k++) {
          if (Math.abs(up[k]!) < 1e-3) excluded++;
          else if (m.data[k] !== fin[k]) mism++;
        }
        expect(mism, `${c.name} <SEG> #${e.hidden}: app mask vs LISA's`).toBe(0);
        // negatives: the seg token off, the projection fed −h (a ReLU/sign slip), SAM's padding token added
        const off = compare((await decode(emb, [0, 0], [-1], h, 0)).logits, want).abs;
        const flipped = compare((await decode(emb, [0, 0], [-1], h.map((v) => -v))).logits, want).abs;
        const padded = compare((await decode(emb, [0, 0], [0], h)).logits, want).abs;
        expect(off, `${c.name}: has_seg = 0 must fail`).toBeGreaterThan(1e-4);
        expect(flipped, `${c.name}: −h must fail`).toBeGreaterThan(1e-4);
        expect(padded, `${c.name}: an extra point token must fail`).toBeGreaterThan(1e-4);
        rows.push(`${c.name} #${e.hidden}: |Δlogit| ${d.abs.toExponential(2)} (rel ${d.rel.toExponential(2)}), IoU ${e.iou.toFixed(4)}, fg ${(100 * e.finalFg).toFixed(1)} %, app mask ${mism} differing / ${excluded} near 0 of ${S * S}; NEG has_seg 0 ${off.toExponential(1)}, −h ${flipped.toExponential(1)}, point token ${padded.toExponential(1)}`);
      }
    }
    console.log(`<SEG> projection (D ${sx.D} → 256) vs LISA ${sx.upstream.repository}@${sx.upstream.commit} (LISA.py sha256 ${sx.upstream.lisaPySha256?.slice(0, 12)}…, torch ${sx.upstream.torch}), seeds ${sx.projSeed} / hidden:\n  ${rows.join('\n  ')}`);
  }, slow);
});
