import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildInferenceWorker } from '../../main/inference/buildWorker.js';
import { InferenceHost } from '../../main/inference/inferenceHost.js';
import { loadReference, renderFormulaImage } from '../../main/inference/testPackFixtures.js';
import { describeWithTorch, python } from '../../main/testing/python.js';

/**
 * The LLaVA-1.5 / GeoChat vision stage (llava_vision.py: CLIP vision tower + mm_projector), proven on fake
 * checkpoints written by llava_selftest.py in the real layouts (HF CLIPModel / CLIPVisionModel folders, LLaVA folders
 * with bf16 shards, an fp16 embedded tower, GeoChat's 504-px position resize):
 * - the loaded module equals an independent functional reference on the raw tensors ≤ 1e-5 (asserted in Python);
 * - `export_pack.py --vision-tower` writes a vision.onnx that equals PyTorch ≤ 1e-4 through onnxruntime-node, [V,16,D];
 * - with the tower inside the checkpoint it builds a whole pack whose manifest view is CLIP's and which answers
 *   through InferenceHost (the app's worker path);
 * - a missing tensor and a mis-shaped one are refused by the CLI, naming the tensor.
 * Needs torch like exporter.int.test.ts (skipped locally without it, required under CI).
 */

const here = path.dirname(fileURLToPath(import.meta.url));

type Case = { input: number[]; inDims: number[]; dims: number[]; output: number[] };

describeWithTorch('LLaVA-1.5 / GeoChat vision stage (needs /usr/bin/python3 with torch + onnx)', () => {
  let tmp: string;
  let st: string;
  let want: Record<'A' | 'B', Case>;
  let selftest: string;

  const exportPack = (args: string[]) =>
    spawnSync(python, [path.join(here, 'export_pack.py'), '--config', 'tiny', ...args], { encoding: 'utf8' });

  async function onnxVsTorch(file: string, c: Case) {
    const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    try {
      const y = (await s.run({ pixel_values: new ort.Tensor('float32', Float32Array.from(c.input), c.inDims) })).visual_tokens!;
      expect(y.dims).toEqual(c.dims);
      let maxErr = 0;
      (y.data as Float32Array).forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - c.output[i]!))));
      return maxErr;
    } finally {
      await s.release();
    }
  }

  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-llava-'));
    st = path.join(tmp, 'st');
    const p = spawnSync(python, [path.join(here, 'llava_selftest.py'), st], { encoding: 'utf8' });
    selftest = `${p.stdout}\n${p.stderr}`;
    expect(p.status, selftest).toBe(0);
    want = JSON.parse(readFileSync(path.join(st, 'vision.json'), 'utf8')) as Record<'A' | 'B', Case>;
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loader + LlavaVision equal an independent functional reference ≤ 1e-5 (CLIPModel / CLIPVisionModel / embedded tower; bf16, fp16, .bin; GeoChat 504 px)', () => {
    const errs = [...selftest.matchAll(/max \|diff\| ([0-9.e+-]+)/g)].map((m) => Number(m[1]));
    console.log(selftest.split('\n').filter((l) => l.includes('max |diff|')).join('\n'));
    expect(errs).toHaveLength(3);
    for (const e of errs) expect(e).toBeLessThanOrEqual(1e-5);
  });

  it('--vision-tower CLIP_DIR: the exported vision stage equals PyTorch ≤ 1e-4 through onnxruntime-node, [V,16,D] with V dynamic', async () => {
    const out = path.join(tmp, 'packA');
    const p = exportPack(['--checkpoint', path.join(st, 'llavaA'), '--vision-tower', path.join(st, 'clipA'), '--only', 'vision', '--out', out]);
    expect(p.status, p.stderr).toBe(0);
    expect(want.A.inDims[0]).toBe(3); // exported with V = 2: the batch axis really is dynamic
    expect(want.A.dims).toEqual([3, 16, 64]);
    const err = await onnxVsTorch(path.join(out, 'vision.onnx'), want.A);
    console.log(`vision A (CLIP 56 px, patch 14, mlp2x_gelu): ONNX vs PyTorch max |diff| ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  it('--vision-tower checkpoint (tower inside the LLaVA folder): a whole pack with CLIP\'s view that answers through InferenceHost', async () => {
    const out = path.join(tmp, 'packB');
    const p = exportPack(['--checkpoint', path.join(st, 'llavaB'), '--vision-tower', 'checkpoint', '--quant', 'fp32', '--out', out]);
    expect(p.status, p.stderr).toBe(0);
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { view: { size: number; tokens: number; mean: number[]; std: number[] }; tokens: { regionFormat?: string } };
    // image_aspect_ratio "pad": LLaVA-1.5's expand2square + CLIPImageProcessor's bicubic (fidelity/clipPreprocess.int.test.ts)
    expect(m.view).toMatchObject({ size: 64, tokens: 16, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], resample: 'bicubic', pad: 'square', maxViews: 1 });
    expect(m.tokens.regionFormat).toBeUndefined(); // LLaVA-1.5 keeps the default; only a GeoChat tower writes "geochat-box"
    const err = await onnxVsTorch(path.join(out, 'vision.onnx'), want.B);
    console.log(`vision B (embedded fp16 tower, 64 px, patch 16, linear): ONNX vs PyTorch max |diff| ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);

    const ref = loadReference();
    const host = new InferenceHost({ workerUrl: await buildInferenceWorker(), forcedProvider: '' });
    try {
      const loaded = await host.loadPack(out);
      expect(loaded.pack.stages).toEqual(['vision', 'prompt', 'embed', 'decoder', 'grounding', 'pixel']);
      const f = ref.conventions.imageFormulas[ref.cases[0]!.image]!;
      const r = await host.ask(
        { views: [{ rect: [0, 0, 64, 64], rgb: renderFormulaImage(f, 64) }], regions: [], text: 'describe the image .', history: [], source: 'optical', mode: 'chat', maxNewTokens: 6, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true },
        () => undefined,
        new AbortController().signal,
      );
      expect(r.tokens).toBeGreaterThan(0);
      expect(r.trace!.firstLogits.length).toBe(512);
    } finally {
      await host.close();
    }
  });

  it('refuses a missing tensor and a mis-shaped one, naming the tensor', () => {
    const missing = exportPack(['--checkpoint', path.join(st, 'llavaA'), '--vision-tower', path.join(st, 'clipA-missing'), '--only', 'vision', '--out', path.join(tmp, 'no1')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('missing tensor vision_model.encoder.layers.1.mlp.fc2.bias');
    const shape = exportPack(['--checkpoint', path.join(st, 'llavaA-badshape'), '--vision-tower', path.join(st, 'clipA'), '--only', 'vision', '--out', path.join(tmp, 'no2')]);
    expect(shape.status).not.toBe(0);
    expect(shape.stderr).toContain('tensor model.mm_projector.2.weight has shape [64, 63], expected [64, 64]');
    const noCkpt = exportPack(['--random-weights', '--vision-tower', path.join(st, 'clipA'), '--only', 'vision', '--out', path.join(tmp, 'no3')]);
    expect(noCkpt.status).not.toBe(0);
    expect(noCkpt.stderr).toContain('--vision-tower needs --checkpoint');
  });
});
