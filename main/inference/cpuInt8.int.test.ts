import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuInt8Decoder, createCpuSession, EXTERNAL_FOLDER_KEY, withAccuracyLevel, type CpuGraph } from './cpuInt8.js';
import { loadNativeOrt } from './nativeOrt.js';
import { testPackDir } from './testPackFixtures.js';

/**
 * int8 compute for CPU decoders (cpuInt8.ts): the rewritten graph carries accuracy_level 4 on every MatMulNBits and
 * nothing else changes; onnxruntime creates it from memory (external weights from the pack's folder) and its logits
 * stay within the int8 rounding of the original's while differing from them (so the attribute is really read).
 */
const fixtures = path.resolve(testPackDir, '..', '..', 'exporter', 'fixtures');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-cpu-int8-test-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** op types and accuracy levels of a graph's nodes, read back by onnxruntime-independent means: the patched bytes */
function matmulNBitsLevels(bytes: Buffer): number[] {
  // every "accuracy_level" attribute name followed by its int field (tag 0x18)
  const levels: number[] = [];
  const needle = Buffer.from('accuracy_level');
  for (let i = bytes.indexOf(needle); i >= 0; i = bytes.indexOf(needle, i + 1)) if (bytes[i + needle.length] === 0x18) levels.push(bytes[i + needle.length + 1]!);
  return levels;
}

async function firstStep(graph: string | CpuGraph, D: number, L: number, kvHeads: number, headDim: number): Promise<Float32Array> {
  const s = await createCpuSession(graph, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    const T = 3;
    const emb = new Float32Array(T * D);
    for (let i = 0; i < emb.length; i++) emb[i] = Math.sin(i * 0.37) * 0.5;
    feeds.inputs_embeds = new ort.Tensor('float32', emb, [1, T, D]);
    const meta = (n: string) => s.inputMetadata[s.inputNames.indexOf(n)] as { type?: string; shape?: (number | string)[] } | undefined;
    const maskLen = typeof meta('attention_mask')?.shape?.[1] === 'number' ? (meta('attention_mask')!.shape![1] as number) : T;
    feeds.attention_mask = new ort.Tensor('int64', BigInt64Array.from({ length: maskLen }, (_, i) => (i < T ? 1n : 0n)), [1, maskLen]);
    feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), [1, T]);
    const past = typeof meta('past_key_values.0.key')?.shape?.[2] === 'number' ? (meta('past_key_values.0.key')!.shape![2] as number) : 0;
    for (let l = 0; l < L; l++)
      for (const k of ['key', 'value']) feeds[`past_key_values.${l}.${k}`] = new ort.Tensor('float32', new Float32Array(kvHeads * past * headDim), [1, kvHeads, past, headDim]);
    const out = await s.run(feeds);
    return (out.logits!.data as Float32Array).slice();
  } finally {
    await s.release();
  }
}

const shape = () => JSON.parse(readFileSync(path.join(testPackDir, 'manifest.json'), 'utf8')).llm as { hidden: number; layers: number; kvHeads: number; headDim: number };
const step = (g: string | CpuGraph) => firstStep(g, shape().hidden, shape().layers, shape().kvHeads, shape().headDim);

describe('int8 compute for CPU decoders', () => {
  it('sets accuracy_level 4 on every MatMulNBits node that has none, keeps a level the pack chose, and is idempotent', () => {
    const orig = readFileSync(path.join(fixtures, 'decoder.int4-gqa.onnx'));
    expect(matmulNBitsLevels(orig)).toEqual([]);
    const { bytes, patched } = withAccuracyLevel(orig, 4);
    expect(patched).toBe(14); // 2 layers × q, k, v, o, gate, up, down
    expect(matmulNBitsLevels(bytes)).toEqual(Array(14).fill(4));
    expect(withAccuracyLevel(bytes, 4).patched).toBe(0);
    // a pack exported with --accuracy-level 4 already: nothing to do; without MatMulNBits (the fp32 test pack): nothing
    expect(withAccuracyLevel(readFileSync(path.join(fixtures, 'decoder.int4-gqa-opts.onnx')), 4).patched).toBe(0);
    expect(withAccuracyLevel(readFileSync(path.join(fixtures, 'decoder.fp32.onnx')), 4).patched).toBe(0);
    // not protobuf: refused, not mangled
    expect(() => withAccuracyLevel(Buffer.from([0x3a, 0xff, 0xff, 0xff, 0x7f, 1]), 4)).toThrow(/past the end|truncated/);
  });

  it('onnxruntime takes the graph from memory and reads the attribute: logits move by int8 rounding only, same top-1', async () => {
    const file = path.join(fixtures, 'decoder.int4-gqa.onnx');
    const got = cpuInt8Decoder(file, {})!;
    expect(got.patched).toBe(14);
    expect(got.folder).toBe(fixtures);
    const a = await step(file);
    const b = await step(got);
    let maxAbs = 0, maxRef = 0;
    for (let i = 0; i < a.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
      maxRef = Math.max(maxRef, Math.abs(a[i]!));
    }
    expect(maxAbs, 'the attribute must change the arithmetic').toBeGreaterThan(0);
    expect(maxAbs / maxRef, 'int8 rounding only').toBeLessThan(0.05);
    const V = a.length / 3;
    const argmax = (x: Float32Array, row: number) => {
      let best = 0;
      for (let v = 1; v < V; v++) if (x[row * V + v]! > x[row * V + best]!) best = v;
      return best;
    };
    for (let r = 0; r < 3; r++) expect(argmax(b, r)).toBe(argmax(a, r));
    console.log(`int8 compute on the int4 GQA fixture: max |Δlogit| ${maxAbs.toExponential(2)} (${((100 * maxAbs) / maxRef).toFixed(3)} % of max |logit|), same top-1 on 3 rows`);
  });

  it('a decoder with external weights: the weights are read from the pack folder (stock and native bindings); VANTAGE_CPU_INT8=0 keeps the pack as is', async () => {
    const dir = mkdtempSync(path.join(tmp, 'pack-'));
    // the fixture with its initializers moved to an external file, as the exporter writes big decoders
    const py = spawnSync('/usr/bin/python3', ['-c', [
      'import onnx, sys',
      'm = onnx.load(sys.argv[1])',
      'onnx.save_model(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location="decoder.onnx.data", size_threshold=1024)',
    ].join('\n'), path.join(fixtures, 'decoder.int4-gqa.onnx'), path.join(dir, 'decoder.onnx')], { encoding: 'utf8' });
    if (py.status !== 0) {
      // CI installs python3-onnx; a machine without it still checks the inline case above
      expect(process.env.CI, `python3 onnx is needed under CI: ${py.stderr}`).not.toBe('true');
      return;
    }
    const got = cpuInt8Decoder(path.join(dir, 'decoder.onnx'), {})!;
    expect(got.patched).toBe(14);
    expect(got.folder).toBe(dir);
    const inline = await step(cpuInt8Decoder(path.join(fixtures, 'decoder.int4-gqa.onnx'), {})!);
    expect(Array.from(await step(got))).toEqual(Array.from(inline));
    // the IO-binding addon takes the same bytes + folder
    const load = loadNativeOrt();
    if (load.addon) {
      const s = new load.addon.Session(got.bytes, { provider: 'cpu', sessionConfig: { [EXTERNAL_FOLDER_KEY]: got.folder } });
      expect(s.inputs.map((i) => i.name)).toContain('inputs_embeds');
      s.release();
      // without the folder onnxruntime cannot find the weights: the folder entry is what makes it work
      expect(() => new load.addon!.Session(got.bytes, { provider: 'cpu' })).toThrow(/external|data|path|file/i);
    } else expect(process.env.CI, `the native addon is required under CI: ${load.reason}`).not.toBe('true');
    expect(cpuInt8Decoder(path.join(dir, 'decoder.onnx'), { VANTAGE_CPU_INT8: '0' })).toBeNull();
  });
});
