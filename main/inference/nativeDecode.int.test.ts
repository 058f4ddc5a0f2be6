import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemblePack } from '../../native-models/exporter/packAssembly.js';
import { VantageError } from '../contract/errors.js';
import { planNativeDecode } from './backend.js';
import { NativeDecodeRunner, NativeDecodeSessions } from './decodeRunner.js';
import { loadNativeOrt, type DeviceTensor, type NativeOrt } from './nativeOrt.js';
import { InferencePipeline, type AskInput } from './pipeline.js';
import { loadReference, renderFormulaImage, testPackDir, type Reference } from './testPackFixtures.js';
import type { Rect } from './viewPlanner.js';

/**
 * The IO-binding addon (dist/native/vantage_ort.node) against the stock onnxruntime-node binding on the same
 * graphs: identical greedy answers and logits for the test pack (KV cache kept on the device) and for
 * GroupQueryAttention decoders (one fixed-capacity cache written in place), fp32 and fp16; the in-place write
 * itself; and the addon's refusals. Built by `npm run build`; required under CI.
 */

const fixtures = path.resolve(testPackDir, '..', '..', 'exporter', 'fixtures');
const S = 64;
const whole: Rect = [0, 0, S, S];
const greedy = { temperature: 0, topP: 1, seed: 0 };
const load = loadNativeOrt();
const skip = !load.addon && process.env.CI !== 'true';
if (skip) console.warn(`native addon tests skipped: ${load.reason} (run npm run build)`);

let ref: Reference;
let tmp: string;
let addon: NativeOrt;

beforeAll(() => {
  if (!load.addon) throw new Error(`the native addon is required under CI: ${load.reason}`);
  addon = load.addon;
  ref = loadReference();
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-native-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function caseInput(c: Reference['cases'][number]): AskInput {
  const f = ref.conventions.imageFormulas[c.image]!;
  return {
    views: [{ rect: whole, rgb: renderFormulaImage(f, S) }],
    regions: c.regions,
    text: c.question,
    history: [],
    source: c.source,
    mode: c.forcedPrefix ? 'ground' : 'chat',
    maxNewTokens: 32,
    sampling: greedy,
    trace: true,
  };
}

async function answers(p: InferencePipeline) {
  const out = [];
  for (const c of ref.cases) {
    const masks: number[] = [];
    const r = await p.ask(caseInput(c), { onToken: () => undefined, onMask: (m) => masks.push(m.data.reduce((a, b) => a + b, 0)) });
    out.push({ text: r.text, ids: r.trace!.generatedIds, first: r.trace!.firstLogits, masks });
  }
  return out;
}

const packs: [string, Record<string, string>, Record<string, unknown>, RegExp][] = [
  ['test pack (plain attention)', {}, {}, /native IO binding on cpu · KV cache kept on the device/],
  ['int4 GroupQueryAttention', { decoder: 'decoder.int4-gqa.onnx' }, { staticKvCache: true }, /KV cache in place \(512 positions\)/],
  ['int4 GroupQueryAttention fp16', { decoder: 'decoder.int4-gqa-fp16.onnx' }, { staticKvCache: true }, /KV cache in place/],
  // issue 16's CPU pack options: int8 compute, fp16 KV cache in the fp32 graph, logits of the last row only
  ['int4 GroupQueryAttention + pack options', { decoder: 'decoder.int4-gqa-opts.onnx' }, { staticKvCache: true, lastRowLogits: true }, /KV cache in place/],
];

describe.skipIf(skip)('native IO-binding decode', () => {
  it('loads against onnxruntime 1.29 and lists the providers it was built with', () => {
    expect(addon.version()).toMatch(/^1\.29\./);
    expect(addon.providers()).toContain('CPUExecutionProvider');
  });

  it.each(packs)('%s: the native runner answers exactly as the stock binding', async (name, swap, llmPatch, describeRe) => {
    let dir = testPackDir;
    if (Object.keys(swap).length) {
      const base = (await import(path.join(testPackDir, 'manifest.json'), { with: { type: 'json' } })).default as { llm: Record<string, unknown> };
      const files = Object.fromEntries(Object.entries(swap).map(([stage, f]) => [stage, path.join(fixtures, f)]));
      dir = assemblePack(testPackDir, path.join(tmp, name.replace(/\W+/g, '-')), files, { llm: { ...base.llm, ...llmPatch } });
    }
    const stock = await InferencePipeline.create(dir, { forced: 'cpu', native: false });
    const native = await InferencePipeline.create(dir, { forced: 'cpu' });
    try {
      expect(stock.decodePath).toMatch(/^stock onnxruntime-node binding/);
      expect(native.decodePath).toMatch(describeRe);
      expect(native.stageProviders.decoder).toBe('cpu');
      const a = await answers(stock);
      const b = await answers(native);
      b.forEach((r, i) => {
        const c = ref.cases[i]!.name;
        expect(r.ids, c).toEqual(a[i]!.ids);
        expect(r.text, c).toBe(a[i]!.text);
        expect(r.masks, c).toEqual(a[i]!.masks);
        let diff = 0;
        r.first.forEach((v, k) => (diff = Math.max(diff, Math.abs(v - a[i]!.first[k]!))));
        expect(diff, `${c} first-step logits`).toBeLessThan(1e-5);
      });
      // the test pack's own reference (PyTorch) holds for the native path too
      if (dir === testPackDir) b.forEach((r, i) => expect(r.ids, ref.cases[i]!.name).toEqual(ref.cases[i]!.generatedIds));
    } finally {
      await stock.dispose();
      await native.dispose();
    }
  });

  it('GroupQueryAttention writes the new keys into the bound past buffer itself (past and present are one tensor)', async () => {
    const s = new addon.Session(path.join(fixtures, 'decoder.int4-gqa.onnx'), { provider: 'cpu' });
    const M = 16, kvH = 2, hd = 16, D = 64, T = 5;
    const kv: DeviceTensor[] = [];
    const feeds: Record<string, DeviceTensor | { type: 'float32' | 'int64'; dims: number[]; data: Float32Array | BigInt64Array }> = {};
    const outs: Record<string, DeviceTensor | 'host'> = { logits: 'host', hidden_states: 'host' };
    for (let i = 0; i < 2; i++)
      for (const k of ['key', 'value']) {
        const t = s.alloc('float32', [1, kvH, M, hd]);
        kv.push(t);
        feeds[`past_key_values.${i}.${k}`] = t;
        outs[`present.${i}.${k}`] = t;
      }
    const mask = new BigInt64Array(M);
    mask.fill(1n, 0, T);
    Object.assign(feeds, {
      inputs_embeds: { type: 'float32', dims: [1, T, D], data: Float32Array.from({ length: T * D }, (_, j) => Math.sin(j)) },
      attention_mask: { type: 'int64', dims: [1, M], data: mask },
      position_ids: { type: 'int64', dims: [1, T], data: BigInt64Array.from([0n, 1n, 2n, 3n, 4n]) },
    });
    const r = await s.run(feeds, outs);
    expect(Object.keys(r).sort()).toEqual(['hidden_states', 'logits']); // the presents went into our buffers
    for (const t of kv) {
      const v = t.read() as Float32Array;
      for (let h = 0; h < kvH; h++) {
        const rows = Array.from({ length: M }, (_, p) => v.subarray((h * M + p) * hd, (h * M + p + 1) * hd).some((x) => x !== 0));
        expect(rows).toEqual(Array.from({ length: M }, (_, p) => p < T));
      }
    }
    for (const t of kv) t.dispose();
    s.release();
  });

  it('refuses bad feeds, ranges and providers with specific errors', async () => {
    expect(() => new addon.Session(path.join(tmp, 'missing.onnx'), { provider: 'cpu' })).toThrow(/missing\.onnx|No such file|Load model/i);
    expect(() => new addon.Session(path.join(fixtures, 'decoder.int4.onnx'), { provider: 'tpu' as 'cpu' })).toThrow(/provider must be "cpu" or "cuda"/);
    const s = new addon.Session(path.join(fixtures, 'decoder.int4.onnx'), { provider: 'cpu' });
    const t = s.alloc('float32', [2, 3]);
    expect(() => t.read(4, 3)).toThrow(/outside a tensor of 6 elements/);
    expect(() => t.write(new Int32Array(2))).toThrow(/does not match/);
    t.write(Float32Array.from([1, 2]), 4);
    expect(Array.from(t.read(3) as Float32Array)).toEqual([0, 1, 2]);
    t.dispose();
    expect(() => t.read()).toThrow(/disposed/);
    expect(() => s.run({ inputs_embeds: { type: 'float32', dims: [1, 2, 64], data: new Float32Array(3) } }, { logits: 'host' })).toThrow(/3 elements for dims holding 128/);
    expect(() => s.run({ inputs_embeds: { type: 'float32', dims: [1, 1, 64], data: new Float64Array(64) as unknown as Float32Array } }, { logits: 'host' })).toThrow(/does not match float32/);
    expect(() => s.run({}, { logits: 'somewhere' as 'host' })).toThrow(/'host', 'device' or a DeviceTensor/);
    await expect(s.run({ inputs_embeds: { type: 'float32', dims: [1, 1, 64], data: new Float32Array(64) } }, { logits: 'host' })).rejects.toThrow(/attention_mask|input/i);
    s.release();
    expect(() => s.alloc('float32', [1])).toThrow(/released/);
  });

  it('release() during a run waits for it: the run still resolves, then the session is gone', async () => {
    const s = new addon.Session(path.join(fixtures, 'decoder.int4.onnx'), { provider: 'cpu' });
    const feeds: Record<string, { type: 'float32' | 'int64'; dims: number[]; data: Float32Array | BigInt64Array }> = {
      inputs_embeds: { type: 'float32', dims: [1, 3, 64], data: new Float32Array(192).fill(0.1) },
      attention_mask: { type: 'int64', dims: [1, 3], data: BigInt64Array.from([1n, 1n, 1n]) },
      position_ids: { type: 'int64', dims: [1, 3], data: BigInt64Array.from([0n, 1n, 2n]) },
    };
    for (let i = 0; i < 2; i++) for (const k of ['key', 'value']) feeds[`past_key_values.${i}.${k}`] = { type: 'float32', dims: [1, 2, 0, 16], data: new Float32Array(0) };
    const running = s.run(feeds, { logits: 'host' });
    s.release();
    expect(() => s.alloc('float32', [1])).toThrow(/released/);
    const r = await running;
    expect((r.logits as { dims: number[] }).dims).toEqual([1, 3, 512]);
    expect(() => s.run(feeds, { logits: 'host' })).toThrow(/released/);
  });

  it('a CUDA session on a machine without a usable GPU fails with the reason, and the plan falls back cleanly', () => {
    const cuda = addon.cudaInfo();
    if (cuda.ok) return; // a GPU host: the benchmark covers CUDA
    expect(cuda.reason).toBeTruthy();
    expect(() => new addon.Session(path.join(fixtures, 'decoder.int4.onnx'), { provider: 'cuda' })).toThrow(/cuda|CUDA|driver/);
    const manifest = { llm: { staticKvCache: true } } as unknown as Parameters<typeof planNativeDecode>[2];
    expect(planNativeDecode(null, 'not built', manifest, 'cpu')).toEqual({ use: false, options: null, reason: 'not built' });
    expect(planNativeDecode(addon, null, manifest, 'cuda', {}).options).toEqual({ provider: 'cuda', staticKv: true, cudaGraph: false });
    expect(planNativeDecode(addon, null, manifest, 'cuda', { VANTAGE_CUDA_GRAPH: '1' }).options?.cudaGraph).toBe(true);
    expect(planNativeDecode(addon, null, manifest, 'cpu', { VANTAGE_KV_LAYOUT: 'append' }).options?.staticKv).toBe(false);
  });

  it('one answer at a time per pack; a cancelled or failed answer frees the cache for the next, which starts clean', async () => {
    const llm = { hidden: 64, layers: 2, kvHeads: 2, headDim: 16, vocab: 512, maxContext: 8 };
    const n = NativeDecodeSessions.create(addon, { embed: path.join(testPackDir, 'embed.onnx'), decoder: path.join(fixtures, 'decoder.int4-gqa.onnx') }, llm, { provider: 'cpu', staticKv: true, cudaGraph: false });
    try {
      const first = new NativeDecodeRunner(n, () => undefined);
      expect(() => new NativeDecodeRunner(n, () => undefined)).toThrow(VantageError);
      await first.prefill(new Float32Array(6 * 64).fill(0.1), 6);
      await first.next(7);
      await first.next(8);
      await expect(first.next(9)).rejects.toThrow(/needs 9 positions but the pack's context holds 8/);
      const kept = Array.from(first.lastLogits());
      first.dispose();
      // a new conversation on the same buffers reproduces the first one's numbers
      const second = new NativeDecodeRunner(n, () => undefined);
      await second.prefill(new Float32Array(6 * 64).fill(0.1), 6);
      await second.next(7);
      await second.next(8);
      const again = Array.from(second.lastLogits());
      second.dispose();
      expect(again.length).toBe(512);
      again.forEach((v, i) => expect(Math.abs(v - kept[i]!)).toBeLessThan(1e-6));
    } finally {
      n.release();
    }
  });
});
