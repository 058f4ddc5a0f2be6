import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

// Parity of the committed test pack (run through onnxruntime-node, as the app does) with reference.json, which the
// PyTorch generator wrote. Deliberately independent of main/inference: it re-implements the contract's sequence
// building in a few lines so that a mismatch points at the pack, not at the pipeline.

const here = fileURLToPath(new URL('.', import.meta.url));
const packDir = `${here}pack/`;

interface Manifest {
  view: { size: number; tokens: number; mean: number[]; std: number[] };
  grounding: { channels: number; grid: number; mean: number[]; std: number[] };
  llm: { hidden: number; layers: number; kvHeads: number; headDim: number; vocab: number };
  tokens: { stop: string[] };
  stages: Record<string, { file: string; sha256: string }>;
  files: Record<string, string>;
}
type Region =
  | { kind: 'box'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'point'; x: number; y: number }
  | { kind: 'polygon'; points: [number, number][] };
interface MaskSummary {
  positivePixels: number;
  bbox: [number, number, number, number] | null;
  score: number;
}
interface Case {
  name: string;
  image: string;
  prompt: string;
  regions: Region[];
  inputIds: number[];
  firstStepTop5: { ids: number[]; values: number[] };
  generatedIds: number[];
  generatedText: string;
  segMasks: MaskSummary[];
}
interface Reference {
  cases: Case[];
  instantMask: MaskSummary & { image: string; points: [number, number][]; point_labels: number[] };
  tokenizerChecks: { text: string; ids: number[] }[];
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const manifest = readJson<Manifest>(`${packDir}manifest.json`);
const reference = readJson<Reference>(`${here}reference.json`);
const S = manifest.view.size;
const D = manifest.llm.hidden;

/** The formulas documented in reference.json `conventions.imageFormulas`. */
function referenceImage(name: string): Uint8Array {
  const img = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let rgb: [number, number, number];
      if (name === 'field_red_building') {
        rgb = [70 + ((7 * x + 3 * y) % 23), 140 + ((5 * x + 11 * y) % 19), 60 + ((3 * x + 13 * y) % 17)];
        if (x >= 16 && x < 40 && y >= 20 && y < 42) rgb = [210, 40, 35];
      } else if (name === 'lake_white_tank') {
        rgb = [40 + ((3 * x + 5 * y) % 13), 80 + ((11 * x + 2 * y) % 17), 160 + ((x + 7 * y) % 29)];
        if ((x - 44) ** 2 + (y - 22) ** 2 <= 81) rgb = [240, 240, 240];
      } else if (name === 'desert_yellow_building') {
        rgb = [200 + ((9 * x + 4 * y) % 21), 175 + ((2 * x + 9 * y) % 15), 120 + ((5 * x + 5 * y) % 11)];
        if (x >= 8 && x < 30 && y >= 34 && y < 56) rgb = [235, 210, 40];
      } else {
        throw new Error(`unknown reference image ${name}`);
      }
      img.set(rgb, (y * S + x) * 3);
    }
  }
  return img;
}

function normalise(img: Uint8Array, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c] ?? 0);
    const s = Math.fround(std[c] ?? 1);
    for (let p = 0; p < S * S; p++) out[c * S * S + p] = (Math.fround((img[p * 3 + c] ?? 0) / 255) - m) / s;
  }
  return out;
}

function rasterise(r: Region): Float32Array {
  const m = new Float32Array(S * S);
  for (let j = 0; j < S; j++) {
    for (let i = 0; i < S; i++) {
      const cx = i + 0.5;
      const cy = j + 0.5;
      let inside = false;
      if (r.kind === 'box') {
        inside =
          cx >= Math.min(r.x0, r.x1) && cx <= Math.max(r.x0, r.x1) && cy >= Math.min(r.y0, r.y1) && cy <= Math.max(r.y0, r.y1);
      } else if (r.kind === 'point') {
        inside = (cx - r.x) ** 2 + (cy - r.y) ** 2 <= (S / 16) ** 2;
      } else {
        const n = r.points.length;
        for (let a = 0; a < n; a++) {
          const [xi, yi] = r.points[a] ?? [0, 0];
          const [xj, yj] = r.points[(a + n - 1) % n] ?? [0, 0];
          if (yi === yj) continue;
          if (yi > cy !== yj > cy && cx < ((xj - xi) * (cy - yi)) / (yj - yi) + xi) inside = !inside;
        }
      }
      m[j * S + i] = inside ? 1 : 0;
    }
  }
  return m;
}

const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
const i64 = (data: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(data.map(BigInt)), dims);
const floats = (t: ort.Tensor | undefined): Float32Array => {
  if (!t) throw new Error('missing output');
  return t.data as Float32Array;
};
const argmax = (a: Float32Array): number => a.reduce((best, v, i) => (v > (a[best] ?? -Infinity) ? i : best), 0);

function summarise(logits: Float32Array, score: number): MaskSummary {
  let count = 0;
  let bbox: [number, number, number, number] | null = null;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      if ((logits[y * S + x] ?? 0) <= 0) continue;
      count++;
      bbox = bbox ? [Math.min(bbox[0], x), Math.min(bbox[1], y), Math.max(bbox[2], x), Math.max(bbox[3], y)] : [x, y, x, y];
    }
  }
  return { positivePixels: count, bbox, score };
}

describe('test pack parity with its PyTorch reference', () => {
  const sessions: Record<string, ort.InferenceSession> = {};
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    for (const [stage, { file }] of Object.entries(manifest.stages)) {
      sessions[stage] = await ort.InferenceSession.create(`${packDir}${file}`, { executionProviders: ['cpu'] });
    }
    tokenizer = new Tokenizer(readJson<object>(`${packDir}tokenizer.json`), {});
  });

  const session = (name: string): ort.InferenceSession => {
    const s = sessions[name];
    if (!s) throw new Error(`stage ${name} not loaded`);
    return s;
  };

  it('lists the right sha256 for every file', () => {
    const files: [string, string][] = [
      ...Object.values(manifest.stages).map((s): [string, string] => [s.file, s.sha256]),
      ...Object.entries(manifest.files),
    ];
    for (const [file, sha] of files) {
      expect(createHash('sha256').update(readFileSync(`${packDir}${file}`)).digest('hex'), file).toBe(sha);
    }
  });

  it('tokenises like the generator', () => {
    for (const check of reference.tokenizerChecks) expect(tokenizer.encode(check.text).ids, check.text).toEqual(check.ids);
  });

  it.each(reference.cases.map((c) => [c.name, c] as const))('%s: logits, greedy answer and SEG masks', async (_n, c) => {
    const ids = tokenizer.encode(c.prompt).ids;
    expect(ids).toEqual(c.inputIds);
    const img = referenceImage(c.image);
    const vis = await session('vision').run({
      pixel_values: f32(normalise(img, manifest.view.mean, manifest.view.std), [1, 3, S, S]),
    });
    const masks = c.regions.length > 0 ? c.regions.map(rasterise) : [new Float32Array(S * S)];
    const stacked = new Float32Array(masks.length * S * S);
    masks.forEach((m, k) => stacked.set(m, k * S * S));
    const pr = await session('prompt').run({
      visual_tokens: vis.visual_tokens as ort.Tensor,
      region_masks: f32(stacked, [masks.length, S, S]),
    });
    const imageEmbeds = floats(pr.image_embeds);
    const regionEmbeds = floats(pr.region_embeds);
    const tokenEmbeds = floats((await session('embed').run({ input_ids: i64(ids, [1, ids.length]) })).inputs_embeds);

    const imageId = tokenizer.encode('<image>').ids[0];
    const segId = tokenizer.encode('<SEG>').ids[0];
    const rows: Float32Array[] = [];
    const rowIds: number[] = [];
    ids.forEach((id, t) => {
      const text = tokenizer.decode([id]);
      const region = /^<region(\d)>$/.exec(text);
      if (id === imageId) {
        for (let r = 0; r < imageEmbeds.length / D; r++) rows.push(imageEmbeds.subarray(r * D, (r + 1) * D));
      } else if (region) {
        const k = Number(region[1]);
        rows.push(regionEmbeds.subarray((k - 1) * D, k * D));
      } else {
        rows.push(tokenEmbeds.subarray(t * D, (t + 1) * D));
      }
      const copies = id === imageId ? imageEmbeds.length / D : 1;
      for (let r = 0; r < copies; r++) rowIds.push(id);
    });
    const n = rows.length;
    const x = new Float32Array(n * D);
    rows.forEach((r, i) => x.set(r, i * D));

    const { layers, kvHeads, headDim, vocab } = manifest.llm;
    let past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < layers; i++) {
      for (const kv of ['key', 'value']) past[`past_key_values.${i}.${kv}`] = f32(new Float32Array(0), [1, kvHeads, 0, headDim]);
    }
    const step = async (emb: Float32Array, p: number, t: number) => {
      const out = await session('decoder').run({
        inputs_embeds: f32(emb, [1, t, D]),
        attention_mask: i64(new Array<number>(p + t).fill(1), [1, p + t]),
        position_ids: i64(Array.from({ length: t }, (_, k) => p + k), [1, t]),
        ...past,
      });
      past = {};
      for (let i = 0; i < layers; i++) {
        for (const kv of ['key', 'value']) past[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`] as ort.Tensor;
      }
      return out;
    };

    let out = await step(x, 0, n);
    const last = floats(out.logits).slice((n - 1) * vocab, n * vocab);
    c.firstStepTop5.ids.forEach((id, k) => expect(Math.abs((last[id] ?? NaN) - (c.firstStepTop5.values[k] ?? NaN))).toBeLessThan(1e-4));

    const segHidden: Float32Array[] = [];
    rowIds.forEach((id, p) => {
      if (id === segId) segHidden.push(floats(out.hidden_states).slice(p * D, (p + 1) * D));
    });
    const generated: number[] = [];
    let next = argmax(last);
    const stop = new Set(manifest.tokens.stop.map((s) => tokenizer.encode(s).ids[0]));
    for (let pos = n; ; pos++) {
      generated.push(next);
      if (stop.has(next) || generated.length >= 32) break;
      const e = floats((await session('embed').run({ input_ids: i64([next], [1, 1]) })).inputs_embeds);
      out = await step(e, pos, 1);
      if (next === segId) segHidden.push(floats(out.hidden_states).slice());
      next = argmax(floats(out.logits));
    }
    expect(generated).toEqual(c.generatedIds);
    expect(tokenizer.decode(generated)).toBe(c.generatedText);

    const grid = manifest.grounding.grid;
    const feats = (await session('grounding').run({
      pixel_values: f32(normalise(img, manifest.grounding.mean, manifest.grounding.std), [1, 3, S, S]),
    })).image_embeddings as ort.Tensor;
    expect(feats.dims).toEqual([1, manifest.grounding.channels, grid, grid]);
    expect(segHidden.length).toBe(c.segMasks.length);
    for (const [k, h] of segHidden.entries()) {
      const px = await session('pixel').run({
        image_embeddings: feats,
        seg_hidden: f32(h, [1, D]),
        has_seg: f32(Float32Array.from([1]), [1]),
        points: f32(new Float32Array(2), [1, 1, 2]),
        point_labels: f32(Float32Array.from([-1]), [1, 1]),
      });
      const got = summarise(floats(px.mask_logits), floats(px.score)[0] ?? NaN);
      const want = c.segMasks[k];
      expect(got.positivePixels).toBe(want?.positivePixels);
      expect(got.bbox).toEqual(want?.bbox);
      expect(Math.abs(got.score - (want?.score ?? NaN))).toBeLessThan(1e-4);
    }
  });

  it('gives the reference instant mask for a box prompt', async () => {
    const ref = reference.instantMask;
    const feats = (await session('grounding').run({
      pixel_values: f32(normalise(referenceImage(ref.image), manifest.grounding.mean, manifest.grounding.std), [1, 3, S, S]),
    })).image_embeddings as ort.Tensor;
    const px = await session('pixel').run({
      image_embeddings: feats,
      seg_hidden: f32(new Float32Array(D), [1, D]),
      has_seg: f32(Float32Array.from([0]), [1]),
      points: f32(Float32Array.from(ref.points.flat()), [1, ref.points.length, 2]),
      point_labels: f32(Float32Array.from(ref.point_labels), [1, ref.point_labels.length]),
    });
    const got = summarise(floats(px.mask_logits), floats(px.score)[0] ?? NaN);
    expect(got.positivePixels).toBe(ref.positivePixels);
    expect(got.bbox).toEqual(ref.bbox);
    expect(Math.abs(got.score - ref.score)).toBeLessThan(1e-4);
  });
});
