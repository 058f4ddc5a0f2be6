import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceEvent } from '../chat/inferencePort.js';
import { VantageError } from '../contract/errors.js';
import { buildInferenceWorker } from './buildWorker.js';
import { InferenceHost } from './inferenceHost.js';
import { InferencePipeline } from './pipeline.js';
import { rasterizeRegion } from './regionRaster.js';
import { loadReference, renderFormulaImage, testPackDir, type Reference } from './testPackFixtures.js';
import { PackTokenizer } from './tokenizer.js';
import type { Rect } from './viewPlanner.js';

/**
 * The real test pack through onnxruntime-node in the real worker, checked against the PyTorch reference
 * (native-models/testpack/reference.json, written by generate.py from the same weights).
 */

const S = 64;
const whole: Rect = [0, 0, S, S];
const greedy = { temperature: 0, topP: 1, seed: 0 };

let ref: Reference;
let host: InferenceHost;
let workerFile: string;

function image(name: string): Uint8Array {
  const f = ref.conventions.imageFormulas[name];
  if (!f) throw new Error(`reference.json has no formula for image ${name}`);
  return renderFormulaImage(f, S);
}

function maskSummary(data: Uint8Array, size: number) {
  let n = 0, x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      if (data[y * size + x]) {
        n++;
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
  return { positivePixels: n, bbox: n ? [x0, y0, x1, y1] : null };
}

beforeAll(async () => {
  ref = loadReference();
  workerFile = await buildInferenceWorker();
  host = new InferenceHost({ workerUrl: workerFile, forcedProvider: '' });
  await host.loadPack(testPackDir);
});

afterAll(async () => {
  await host?.close();
});

describe('InferenceHost with the test pack', () => {
  it('reports the pack, its stages and the provider ladder', () => {
    const s = host.status();
    expect(s.state).toBe('ready');
    expect(s.pack?.name).toBe('vantage-test-pack');
    expect(s.pack?.stages).toEqual(['vision', 'prompt', 'embed', 'decoder', 'grounding', 'pixel']);
    expect(s.pack?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(s.stageProviders)).toHaveLength(6);
    expect(s.providers.map((p) => p.name)).toEqual(['cuda', 'webgpu', 'cpu']);
    for (const p of s.providers) expect(p.available || (p.reason ?? '').length > 0).toBe(true);
    expect(host.viewSize).toBe(S);
  });

  it('rasterises the reference regions to the same pixel counts', () => {
    for (const c of ref.cases) {
      const counts = c.regions.map((g) => rasterizeRegion(g, whole, S).reduce((a, b) => a + b, 0));
      expect(counts, c.name).toEqual(c.regionMaskPixels);
    }
  });

  it('reproduces every reference case: prompt, input ids, first-step logits, greedy ids, text and SEG masks', async () => {
    const tok = await PackTokenizer.load(path.join(testPackDir, 'tokenizer.json'));
    for (const c of ref.cases) {
      const events: InferenceEvent[] = [];
      const r = await host.ask(
        { views: [{ rect: whole, rgb: image(c.image) }], regions: c.regions, text: c.question, history: [], source: c.source, mode: c.forcedPrefix ? 'ground' : 'chat', maxNewTokens: 32, sampling: greedy, trace: true },
        (e) => events.push(e),
        new AbortController().signal,
      );
      const t = r.trace!;
      expect(t.prompt, c.name).toBe(c.prompt);
      expect(t.inputIds, c.name).toEqual(c.inputIds);
      expect(t.sequenceLength, c.name).toBe(c.sequenceLength);
      const top5 = Array.from(t.firstLogits, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
      expect(top5.map(([, i]) => i), c.name).toEqual(c.firstStepTop5.ids);
      top5.forEach(([v], k) => expect(Math.abs(v - c.firstStepTop5.values[k]!), `${c.name} logit ${k}`).toBeLessThan(1e-4));
      expect(t.generatedIds, c.name).toEqual(c.generatedIds);

      // The answer text leaves the stop token out; the streamed deltas add up to it.
      const stopped = c.generatedIds.at(-1) === tok.requireId('</s>');
      const answer = tok.decode(stopped ? c.generatedIds.slice(0, -1) : c.generatedIds);
      expect(r.text, c.name).toBe(c.forcedPrefix ? `${c.forcedPrefix}${answer ? ` ${answer}` : ''}` : answer);
      if (!stopped && !c.forcedPrefix) expect(r.text).toBe(c.generatedText);
      const streamed = events.flatMap((e) => (e.type === 'token' ? [e.text] : [])).join('');
      expect(streamed, c.name).toBe(r.text);
      expect(r.tokens).toBe(c.generatedIds.length - (stopped ? 1 : 0));
      expect(r.provider).toBe('cpu');

      const masks = events.flatMap((e) => (e.type === 'mask' ? [e.mask] : []));
      expect(masks.length, `${c.name} masks`).toBe(c.segMasks.length);
      masks.forEach((m, k) => {
        const want = c.segMasks[k]!;
        expect(m.size).toBe(64);
        expect(m.rect).toEqual(whole);
        expect(maskSummary(m.data, m.size), `${c.name} mask ${k}`).toEqual({ positivePixels: want.positivePixels, bbox: want.bbox });
        expect(Math.abs(m.score - want.score)).toBeLessThan(1e-4);
        expect(m.regionIndex).toBe(c.regions.length === 1 ? 0 : null);
        if (c.forcedPrefix) expect(m.phrase).toBe(c.question);
        else if (r.text.includes('<p>')) expect(m.phrase).toBe(r.text.slice(r.text.indexOf('<p>') + 3, r.text.indexOf('</p>')).trim());
      });
    }
  });

  it('reproduces the reference instant mask (box prompt, has_seg = 0)', async () => {
    const im = ref.instantMask;
    const [[x0, y0], [x1, y1]] = im.points as [[number, number], [number, number]];
    expect(im.point_labels).toEqual([2, 3]);
    const m = await host.instantMask({ rect: whole, rgb: image(im.image), key: 'instant-ref' }, { kind: 'box', x0, y0, x1, y1 });
    expect(maskSummary(m.data, m.size)).toEqual({ positivePixels: im.positivePixels, bbox: im.bbox });
    expect(Math.abs(m.score - im.score)).toBeLessThan(1e-4);
    // second call hits the grounding cache and must give the same mask
    const again = await host.instantMask({ rect: whole, rgb: image(im.image), key: 'instant-ref' }, { kind: 'box', x0, y0, x1, y1 });
    expect(Buffer.from(again.data).equals(Buffer.from(m.data))).toBe(true);
  });

  it('ground mode forces the prefix and returns a mask from the prompt’s <SEG>', async () => {
    const c = ref.cases[0]!;
    const events: InferenceEvent[] = [];
    const r = await host.ask(
      { views: [{ rect: whole, rgb: image(c.image) }], regions: [], text: 'segment the red building .', history: [], source: 'optical', mode: 'ground', maxNewTokens: 8, sampling: greedy, trace: true },
      (e) => events.push(e),
      new AbortController().signal,
    );
    expect(r.trace!.prompt.endsWith('<s>assistant: Sure, it is <SEG> .')).toBe(true);
    expect(r.text.startsWith('Sure, it is <SEG> .')).toBe(true);
    const masks = events.flatMap((e) => (e.type === 'mask' ? [e.mask] : []));
    expect(masks.length).toBeGreaterThanOrEqual(1);
    expect(masks[0]!.phrase).toBe('segment the red building .');
  });

  it('keeps history and samples reproducibly with a seed', async () => {
    const c = ref.cases[0]!;
    const ask = (seed: number) =>
      host.ask(
        {
          views: [{ rect: whole, rgb: image(c.image) }],
          regions: c.regions,
          text: 'what colour is it ?',
          history: [{ role: 'user', text: c.question }, { role: 'assistant', text: 'the region shows a <p> red building </p> <SEG> .' }],
          source: 'sar',
          mode: 'chat',
          maxNewTokens: 12,
          sampling: { temperature: 1.5, topP: 0.95, seed },
          trace: true,
        },
        () => {},
        new AbortController().signal,
      );
    const a = await ask(7), b = await ask(7);
    expect(a.trace!.generatedIds).toEqual(b.trace!.generatedIds);
    expect(a.trace!.prompt).toContain('<s>user: <sar> <image> what is in <region1> ? </s><s>assistant: the region shows');
    expect(a.trace!.prompt.match(/<image>/g)).toHaveLength(1);
  });

  it('stops within one token when cancelled mid-stream', async () => {
    const c = ref.cases[1]!;
    const ctl = new AbortController();
    const tokens: number[] = [];
    let abortedAt = -1;
    const run = host.ask(
      { views: [{ rect: whole, rgb: image(c.image) }], regions: [], text: c.question, history: [], source: 'optical', mode: 'chat', maxNewTokens: 200, sampling: { temperature: 5, topP: 1, seed: 3 } },
      (e) => {
        if (e.type !== 'token') return;
        tokens.push(e.index);
        if (tokens.length === 3) {
          abortedAt = e.index;
          ctl.abort();
        }
      },
      ctl.signal,
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(abortedAt).toBeGreaterThanOrEqual(0);
    // the host forwards nothing after abort(); the worker stops at its next per-token check (see pipeline test below)
    expect(tokens).toHaveLength(3);
    // the worker is still usable afterwards
    const r = await host.ask(
      { views: [{ rect: whole, rgb: image(c.image) }], regions: [], text: c.question, history: [], source: 'optical', mode: 'chat', maxNewTokens: 4, sampling: greedy },
      () => {},
      new AbortController().signal,
    );
    expect(r.tokens).toBeGreaterThan(0);
  });

  it('the pipeline checks the signal at every token: aborting in a token callback stops right there', async () => {
    const c = ref.cases[1]!;
    const p = await InferencePipeline.create(testPackDir, { forced: 'cpu' });
    try {
      const ctl = new AbortController();
      let n = 0;
      const run = p.ask(
        { views: [{ rect: whole, rgb: image(c.image) }], regions: [], text: c.question, history: [], source: 'optical', mode: 'chat', maxNewTokens: 200, sampling: { temperature: 5, topP: 1, seed: 3 } },
        {
          onToken: () => {
            if (++n === 2) ctl.abort();
          },
          onMask: () => {},
        },
        ctl.signal,
      );
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(n).toBe(2);
    } finally {
      await p.dispose();
    }
  });

  it('refuses a tampered pack with a clear message, then loads the good one again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vantage-pack-'));
    try {
      cpSync(testPackDir, dir, { recursive: true });
      const f = path.join(dir, 'vision.onnx');
      const bytes = readFileSync(f);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
      writeFileSync(f, bytes);
      const err = await host.loadPack(dir).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(VantageError);
      expect((err as VantageError).code).toBe('BAD_INPUT');
      expect((err as VantageError).message).toMatch(/model pack "vantage-test-pack": file vision\.onnx does not match its sha256 in manifest\.json \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); the pack may be corrupt or tampered with/);
      expect(host.status().state).toBe('error');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await host.loadPack(testPackDir);
    expect(host.status().state).toBe('ready');
  });
});
