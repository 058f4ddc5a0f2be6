import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInferenceWorker } from '../../main/inference/buildWorker.js';
import { InferenceHost } from '../../main/inference/inferenceHost.js';
import { loadReference, renderFormulaImage, testPackDir, type Reference } from '../../main/inference/testPackFixtures.js';
import type { Rect } from '../../main/inference/viewPlanner.js';
import { describeWithTorch, python } from '../../main/testing/python.js';
import { assemblePack } from './packAssembly.js';

/**
 * The exporter's graphs run through onnxruntime-node on CPU, as the app runs them:
 * - MatMulNBits (int4, com.microsoft) has a CPU kernel and our packing matches its layout;
 * - the fp32 decoder the exporter built from a Hugging Face LLaMA-layout checkpoint (fixtures/tiny-llama-hf: the
 *   trained test-pack weights) reproduces the PyTorch reference (testpack/reference.json) through InferenceHost;
 * - the int4 decoders from the same checkpoint (plain attention; GroupQueryAttention — the GPU graph shape — in
 *   fp32 and fp16) answer through InferenceHost; greedy-token agreement is reported;
 * - with torch (python3-torch, python3-onnx; skipped locally without them, required under CI): the loader
 *   reproduces the committed fixtures byte for byte, and a bigger random `parity` config matches the PyTorch
 *   reference at ≤ 1e-4 (fp32) over a prefill + cached decode steps.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const fix = path.join(here, 'fixtures');
const S = 64;
const whole: Rect = [0, 0, S, S];
const greedy = { temperature: 0, topP: 1, seed: 0 };

let ref: Reference;
let workerFile: string;
let tmp: string;

beforeAll(async () => {
  ref = loadReference();
  workerFile = await buildInferenceWorker();
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-exporter-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function runCases(decoderFile: string, name: string) {
  const dir = assemblePack(testPackDir, path.join(tmp, name), { decoder: decoderFile }, { name: `vantage-tiny-${name}` });
  const host = new InferenceHost({ workerUrl: workerFile, forcedProvider: '' });
  try {
    const loaded = await host.loadPack(dir);
    expect(loaded.pack.name).toBe(`vantage-tiny-${name}`);
    const out = [];
    for (const c of ref.cases) {
      const f = ref.conventions.imageFormulas[c.image]!;
      const r = await host.ask(
        { views: [{ rect: whole, rgb: renderFormulaImage(f, S) }], regions: c.regions, text: c.question, history: [], source: c.source, mode: c.forcedPrefix ? 'ground' : 'chat', maxNewTokens: 32, sampling: greedy, trace: true },
        () => undefined,
        new AbortController().signal,
      );
      out.push({ c, r, t: r.trace! });
    }
    return out;
  } finally {
    await host.close();
  }
}

describe('MatMulNBits on onnxruntime-node CPU', () => {
  // matmulnbits-b64-sym: block 64 without the zero-points input (the op takes 8), llama.cpp's Q4_0 rule (quant.py)
  it.each(['matmulnbits', 'matmulnbits-b64-sym'])('%s: computes x @ dequantise(W)^T with our packing (ragged K = 80)', async (name) => {
    const want = JSON.parse(readFileSync(path.join(fix, `${name}.json`), 'utf8')) as { K: number; N: number; x: number[]; y: number[]; yFp32: number[] };
    const s = await ort.InferenceSession.create(path.join(fix, `${name}.onnx`), { executionProviders: ['cpu'] });
    const y = (await s.run({ x: new ort.Tensor('float32', Float32Array.from(want.x), [1, 3, want.K]) })).y!;
    expect(y.dims).toEqual([1, 3, want.N]);
    const got = y.data as Float32Array;
    want.y.forEach((v, i) => expect(Math.abs(got[i]! - v), `y[${i}]`).toBeLessThan(1e-4));
    // and the quantiser is right, not merely self-consistent: close to the product with the fp32 weights
    // (|y| ≤ 2.2 here: observed 0.16 max error; swapped nibbles give > 1)
    want.yFp32.forEach((v, i) => expect(Math.abs(got[i]! - v), `y vs fp32 [${i}]`).toBeLessThan(name === 'matmulnbits' ? 0.3 : 0.6));
    await s.release();
  });
});

describe('exported decoders through InferenceHost (the app path)', () => {
  it('fp32 decoder from the HF-layout checkpoint reproduces the PyTorch reference (logits ≤ 1e-4, same greedy ids)', async () => {
    for (const { c, t, r } of await runCases(path.join(fix, 'decoder.fp32.onnx'), 'fp32')) {
      expect(t.inputIds, c.name).toEqual(c.inputIds);
      const top5 = Array.from(t.firstLogits, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
      expect(top5.map(([, i]) => i), c.name).toEqual(c.firstStepTop5.ids);
      top5.forEach(([v], k) => expect(Math.abs(v - c.firstStepTop5.values[k]!), `${c.name} logit ${k}`).toBeLessThan(1e-4));
      expect(t.generatedIds, c.name).toEqual(c.generatedIds);
      expect(r.provider).toBe('cpu');
    }
  });

  // int4-gqa-opts: issue 16's CPU pack options (accuracy_level 4, last-row logits, fp16 KV cache; make_fixtures.py OPTS);
  // int4-gqa-q40: block 64 symmetric with int8 compute, the Q4_0-sized option (make_fixtures.py Q40)
  it.each(['int4', 'int4-gqa', 'int4-gqa-fp16', 'int4-gqa-opts', 'int4-gqa-q40'])('%s decoder answers; greedy-token agreement with the fp32 reference is reported and above the floor', async (variant) => {
    let agree = 0, total = 0, exact = 0;
    const rows: string[] = [];
    for (const { c, t, r } of await runCases(path.join(fix, `decoder.${variant}.onnx`), variant)) {
      // position-wise agreement up to the reference length: a divergence counts against every later position
      const n = c.generatedIds.length;
      let k = 0;
      while (k < n && t.generatedIds[k] === c.generatedIds[k]) k++;
      agree += k; total += n;
      if (k === n && t.generatedIds.length === n) exact++;
      const top1 = t.firstLogits.indexOf(Math.max(...t.firstLogits));
      expect(top1, `${c.name}: int4 first token`).toBe(c.firstStepTop5.ids[0]);
      expect(r.text.length).toBeGreaterThan(0);
      rows.push(`${c.name}: ${k}/${n} tokens before divergence`);
    }
    console.log(`${variant} greedy agreement (tiny, trained test-pack weights): ${agree}/${total} tokens, ${exact}/${ref.cases.length} answers identical\n  ${rows.join('\n  ')}`);
    // Floor: the first token of every case must match (asserted above) and ≥ 90 % of reference tokens must be
    // reproduced before the first divergence. Observed: see README (block-32 int4 on 64-wide layers).
    expect(agree / total).toBeGreaterThanOrEqual(0.9);
  });
});

describeWithTorch('Python exporter (needs /usr/bin/python3 with torch + onnx)', () => {
  it('loads the HF-layout checkpoint and rebuilds the committed decoders byte for byte', () => {
    const opts = ['--accuracy-level', '4', '--last-logits', '--kv-dtype', 'float16'];
    const q40 = ['--block-size', '64', '--symmetric', '--accuracy-level', '4'];
    const variants = [['fp32', 'matmul', 'float32', 'fp32', []], ['int4', 'matmul', 'float32', 'int4', []], ['int4', 'gqa', 'float32', 'int4-gqa', []], ['int4', 'gqa', 'float16', 'int4-gqa-fp16', []], ['int4', 'gqa', 'float32', 'int4-gqa-opts', opts], ['int4', 'gqa', 'float32', 'int4-gqa-q40', q40]] as const;
    for (const [q, attention, dtype, name, extra] of variants) {
      const out = path.join(tmp, `rebuild-${name}`);
      const p = spawnSync(python, [path.join(here, 'export_pack.py'), '--config', 'tiny', '--checkpoint', path.join(fix, 'tiny-llama-hf'), '--quant', q, '--attention', attention, '--dtype', dtype, '--only', 'decoder', '--out', out, ...extra], { encoding: 'utf8' });
      expect(p.status, p.stderr).toBe(0);
      expect(readFileSync(path.join(out, 'decoder.onnx')).equals(readFileSync(path.join(fix, `decoder.${name}.onnx`))), name).toBe(true);
    }
  });

  it('loader handles sharded bf16 safetensors, a tied head and extra LLaVA tensors', () => {
    const p = spawnSync(python, [path.join(here, 'checkpoint_selftest.py')], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
  });

  it('--dry-run prints the 7b-class sizes without writing anything', () => {
    const p = spawnSync(python, [path.join(here, 'export_pack.py'), '--config', '7b-class', '--dry-run'], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain('hidden 4096, 32 layers, 32 heads / 8 kv, head dim 128, SwiGLU 11008, vocab 32000');
    expect(p.stdout).toMatch(/int4 decoder file\s+3\.54 GiB/);
    expect(p.stdout).toMatch(/weight bytes \/ token\s+3\.298 GiB/);
    expect(p.stdout).toMatch(/expected VRAM\s+5\.\d\d GiB/);
  });

  it('builds the small int4 random-weight pack, which loads and answers through InferenceHost', async () => {
    const out = path.join(tmp, 'small-int4');
    const p = spawnSync(python, [path.join(here, 'export_pack.py'), '--config', 'small', '--random-weights', '--out', out], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    const host = new InferenceHost({ workerUrl: workerFile, forcedProvider: '' });
    try {
      const loaded = await host.loadPack(out);
      expect(loaded.pack.name).toBe('vantage-small-int4');
      expect(loaded.pack.stages).toEqual(['vision', 'prompt', 'embed', 'decoder', 'grounding', 'pixel']);
      const f = ref.conventions.imageFormulas[ref.cases[0]!.image]!;
      const tokens: string[] = [];
      const r = await host.ask(
        { views: [{ rect: whole, rgb: renderFormulaImage(f, S) }], regions: [], text: 'describe the image .', history: [], source: 'optical', mode: 'chat', maxNewTokens: 6, sampling: greedy, trace: true },
        (e) => { if (e.type === 'token') tokens.push(e.text); },
        new AbortController().signal,
      );
      expect(r.tokens).toBeGreaterThan(0); // random weights: any words, but streamed through the whole pipeline
      expect(tokens.join('')).toBe(r.text);
      expect(r.trace!.firstLogits.length).toBe(4096);
    } finally {
      await host.close();
    }
  });

  it('SAM ViT-B-class encoder from a fake segment_anything checkpoint and the ViT-L-class vision tower match PyTorch ≤ 1e-4', async () => {
    const out = path.join(tmp, 'encoders');
    const p = spawnSync(python, [path.join(here, 'encoder_parity.py'), out], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    const want = JSON.parse(readFileSync(path.join(out, 'encoders.json'), 'utf8')) as Record<'grounding' | 'grounding_padded' | 'vision', { input: number[]; dims: number[]; output: number[] }>;
    for (const stage of ['grounding', 'grounding_padded', 'vision'] as const) {
      const s = await ort.InferenceSession.create(path.join(out, `${stage}.onnx`), { executionProviders: ['cpu'] });
      const w = want[stage];
      const inDims = { grounding: [1, 3, 64, 64], grounding_padded: [1, 3, 80, 80], vision: [2, 3, 64, 64] }[stage];
      const r = await s.run({ pixel_values: new ort.Tensor('float32', Float32Array.from(w.input), inDims) });
      const y = r[s.outputNames[0]!]!;
      expect(y.dims, stage).toEqual(w.dims);
      let maxErr = 0;
      (y.data as Float32Array).forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - w.output[i]!))));
      expect(maxErr, stage).toBeLessThan(1e-4);
      await s.release();
    }
  });

  it('parity config: fp32 graph matches PyTorch ≤ 1e-4 over prefill + 3 cached steps; int4 stays close', async () => {
    const out = path.join(tmp, 'parity');
    const p = spawnSync(python, [path.join(here, 'parity_reference.py'), out], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    const want = JSON.parse(readFileSync(path.join(out, 'reference.json'), 'utf8')) as {
      config: { hidden: number; layers: number; kv_heads: number; head_dim: number; vocab: number };
      steps: { embeds: number[]; T: number; P: number; logits: number[]; hidden: number[] }[];
    };
    const c = want.config;
    const report: string[] = [];
    for (const q of ['fp32', 'int4', 'gqa-fp32', 'int4-q40']) {
      const s = await ort.InferenceSession.create(path.join(out, `decoder.${q}.onnx`), { executionProviders: ['cpu'] });
      let past: Record<string, ort.Tensor> = {};
      for (let i = 0; i < c.layers; i++)
        for (const kv of ['key', 'value']) past[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, c.kv_heads, 0, c.head_dim]);
      let maxErr = 0, argmaxAgree = 0, rows = 0;
      for (const st of want.steps) {
        const feeds = {
          inputs_embeds: new ort.Tensor('float32', Float32Array.from(st.embeds), [1, st.T, c.hidden]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(st.P + st.T).fill(1n), [1, st.P + st.T]),
          position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: st.T }, (_, j) => BigInt(st.P + j)), [1, st.T]),
          ...past,
        };
        const r = await s.run(feeds);
        const logits = r.logits!.data as Float32Array;
        st.logits.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(logits[j]! - v))));
        for (let row = 0; row < st.T; row++) {
          const a = logits.subarray(row * c.vocab, (row + 1) * c.vocab);
          const b = st.logits.slice(row * c.vocab, (row + 1) * c.vocab);
          if (a.indexOf(Math.max(...a)) === b.indexOf(Math.max(...b))) argmaxAgree++;
          rows++;
        }
        past = {};
        for (let i = 0; i < c.layers; i++)
          for (const kv of ['key', 'value']) past[`past_key_values.${i}.${kv}`] = r[`present.${i}.${kv}`]!;
      }
      report.push(`${q}: max |logit diff| ${maxErr.toExponential(2)}, argmax agreement ${argmaxAgree}/${rows}`);
      if (!q.startsWith('int4')) {
        expect(maxErr).toBeLessThan(1e-4);
        expect(argmaxAgree).toBe(rows);
      } else {
        expect(maxErr).toBeGreaterThan(1e-4); // it really is quantised
        expect(maxErr).toBeLessThan(1.0);
      }
      await s.release();
    }
    console.log(`parity config vs PyTorch: ${report.join('; ')}`);
  });
});
