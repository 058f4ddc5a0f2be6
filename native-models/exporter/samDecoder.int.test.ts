import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InferencePipeline, type MaskResult } from '../../main/inference/pipeline.js';
import { loadReference, renderFormulaImage, testPackDir } from '../../main/inference/testPackFixtures.js';
import type { Rect } from '../../main/inference/viewPlanner.js';
import { describeWithTorch, python } from '../../main/testing/python.js';
import { assemblePack } from './packAssembly.js';

/**
 * The `pixel` stage from SAM's prompt encoder + mask decoder (sam_decoder.py), proven on a tiny FAKE
 * segment_anything checkpoint written with SAM's real tensor names (sam_decoder_selftest.py):
 * - the module loaded by load_sam_pixel equals an independent functional reference from the raw tensors ≤ 1e-5
 *   (point, box, fg + bg with padding, <SEG> only, point + <SEG>, box + point); has_seg = 0 ignores seg_hidden
 *   exactly; missing / mis-shaped / unexpected tensors are refused by name;
 * - the ONNX pixel stage written by export_pack's --sam-checkpoint path equals PyTorch ≤ 1e-4 through
 *   onnxruntime-node;
 * - that stage and the SamEncoder grounding from the same file, swapped into a copy of the test pack (same geometry:
 *   S 64, C 32, g 16, mask 64, D 64), run instant masks and a ground-mode <SEG> mask through InferencePipeline.
 */

const here = path.dirname(fileURLToPath(import.meta.url));

interface Case { name: string; points: number[][]; labels: number[]; hasSeg: number; maskLogits: number[]; score: number; fgFraction: number }
interface Want { C: number; G: number; D: number; mask: number; image: number[]; segHidden: number[]; cases: Case[]; worstReference: number }

let tmp: string;
let out: string;
let selftest: { status: number | null; stdout: string; stderr: string };

describeWithTorch('SAM prompt encoder + mask decoder as the pixel stage (needs /usr/bin/python3 with torch + onnx)', () => {
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-sam-pixel-'));
    out = path.join(tmp, 'export');
    selftest = spawnSync(python, [path.join(here, 'sam_decoder_selftest.py'), out], { encoding: 'utf8' });
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loader + module equal the functional reference ≤ 1e-5; has_seg = 0 exact; bad checkpoints refused by name', () => {
    expect(selftest.status, selftest.stderr).toBe(0);
    console.log(selftest.stdout.split('\n').filter((l) => l.startsWith('  ') || l.startsWith('sam pixel')).join('\n'));
    for (const what of ['missing', 'mis-shaped', 'unexpected', 'other transformer_dim', 'not SAM', 'seg missing', 'seg mis-shaped'])
      expect(selftest.stdout, what).toContain(`refused (${what})`);
    expect(selftest.stdout).toContain('lacks tensor mask_decoder.transformer.layers.1.norm4.weight');
    expect(selftest.stdout).toContain('tensor mask_decoder.iou_prediction_head.layers.2.weight has shape [5, 24]');
    const want = JSON.parse(readFileSync(path.join(out, 'sam_pixel.json'), 'utf8')) as Want;
    expect(want.worstReference).toBeLessThanOrEqual(1e-5);
  });

  it('the exported pixel.onnx equals PyTorch ≤ 1e-4 through onnxruntime-node', async () => {
    expect(selftest.status, selftest.stderr).toBe(0);
    const want = JSON.parse(readFileSync(path.join(out, 'sam_pixel.json'), 'utf8')) as Want;
    const s = await ort.InferenceSession.create(path.join(out, 'pixel.onnx'), { executionProviders: ['cpu'] });
    const rows: string[] = [];
    try {
      for (const c of want.cases) {
        const P = c.labels.length;
        const r = await s.run({
          image_embeddings: new ort.Tensor('float32', Float32Array.from(want.image), [1, want.C, want.G, want.G]),
          seg_hidden: new ort.Tensor('float32', Float32Array.from(want.segHidden), [1, want.D]),
          has_seg: new ort.Tensor('float32', Float32Array.from([c.hasSeg]), [1]),
          points: new ort.Tensor('float32', Float32Array.from(c.points.flat()), [1, P, 2]),
          point_labels: new ort.Tensor('float32', Float32Array.from(c.labels), [1, P]),
        });
        expect(r.mask_logits!.dims, c.name).toEqual([1, 1, want.mask, want.mask]);
        expect(r.score!.dims, c.name).toEqual([1]);
        const got = r.mask_logits!.data as Float32Array;
        let maxErr = 0;
        c.maskLogits.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(got[i]! - v))));
        const scoreErr = Math.abs((r.score!.data as Float32Array)[0]! - c.score);
        expect(maxErr, c.name).toBeLessThanOrEqual(1e-4);
        expect(scoreErr, c.name).toBeLessThanOrEqual(1e-4);
        expect(c.fgFraction, `${c.name}: a non-trivial mask`).toBeGreaterThan(0.05);
        expect(c.fgFraction, `${c.name}: a non-trivial mask`).toBeLessThan(0.95);
        rows.push(`${c.name}: |Δmask| ${maxErr.toExponential(2)}, |Δscore| ${scoreErr.toExponential(2)}`);
      }
    } finally {
      await s.release();
    }
    console.log(`SAM pixel.onnx vs PyTorch (P = 1…3 through one graph):\n  ${rows.join('\n  ')}`);
  });

  it('SAM grounding + pixel swapped into the test pack run instant masks and a <SEG> mask through InferencePipeline', async () => {
    expect(selftest.status, selftest.stderr).toBe(0);
    const dir = assemblePack(testPackDir, path.join(tmp, 'sam-pack'), { grounding: path.join(out, 'grounding.onnx'), pixel: path.join(out, 'pixel.onnx') }, { name: 'vantage-test-sam-pixel' });
    const ref = loadReference();
    const S = 64;
    const whole: Rect = [0, 0, S, S];
    const f = ref.conventions.imageFormulas[ref.instantMask.image]!;
    const view = { rect: whole, rgb: renderFormulaImage(f, S), key: 'sam-instant' };
    const pipeline = await InferencePipeline.create(dir, { forced: 'cpu' });
    try {
      expect(pipeline.pack.manifest.name).toBe('vantage-test-sam-pixel');
      const point = await pipeline.instantMask(view, { kind: 'point', x: 30, y: 20 });
      const box = await pipeline.instantMask(view, { kind: 'box', x0: 12, y0: 8, x1: 47, y1: 41 });
      const both = await pipeline.instantMask(view, { kind: 'points', points: [{ x: 30, y: 20, label: 1 }, { x: 5, y: 50, label: 0 }] });
      for (const [name, m] of [['point', point], ['box', box], ['fg+bg', both]] as const) {
        expect(m.size, name).toBe(64);
        expect(m.data.length, name).toBe(64 * 64);
        expect(m.score, name).toBeGreaterThanOrEqual(0);
        expect(m.score, name).toBeLessThanOrEqual(1);
      }
      expect(point.cachedFeatures).toBe(false);
      expect(box.cachedFeatures).toBe(true); // same tile: only the SAM decoder ran
      expect(Buffer.from(box.data).equals(Buffer.from(point.data))).toBe(false); // the prompt reaches the decoder

      const c = ref.cases.find((k) => k.forcedPrefix)!;
      const masks: MaskResult[] = [];
      const img = renderFormulaImage(ref.conventions.imageFormulas[c.image]!, S);
      await pipeline.ask(
        { views: [{ rect: whole, rgb: img }], regions: c.regions, text: c.question, history: [], source: c.source, mode: 'ground', maxNewTokens: 16, sampling: { temperature: 0, topP: 1, seed: 0 } },
        { onToken: () => undefined, onMask: (m) => masks.push(m) },
      );
      expect(masks.length).toBeGreaterThan(0); // the forced prefix's <SEG> goes to SAM's decoder with has_seg = 1
      expect(masks[0]!.size).toBe(64);
      console.log(`SAM pixel in the test pack: instant point ${point.data.reduce((a, b) => a + b, 0)} px (score ${point.score.toFixed(3)}), box ${box.data.reduce((a, b) => a + b, 0)} px (${box.score.toFixed(3)}), <SEG> ${masks[0]!.data.reduce((a, b) => a + b, 0)} px (${masks[0]!.score.toFixed(3)})`);
    } finally {
      await pipeline.dispose();
    }
  });
});
