import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VantageError } from '../contract/errors.js';
import { InferencePipeline, type AskInput, type MaskResult } from './pipeline.js';
import { loadReference, renderFormulaImage, testPackDir, type Reference } from './testPackFixtures.js';
import type { Rect } from './viewPlanner.js';

/**
 * Bitemporal mode (PACK_CONTRACT.md "Bitemporal mode") on the test pack, in-process: two <image> blocks, streamed
 * tokens, masks in image A's pixels. The test pack was never trained on pairs, so only the mechanics are checked.
 */

const S = 64;
let ref: Reference;
let pipeline: InferencePipeline;

function image(name: string): Uint8Array {
  const f = ref.conventions.imageFormulas[name];
  if (!f) throw new Error(`reference.json has no formula for image ${name}`);
  return renderFormulaImage(f, S);
}

beforeAll(async () => {
  ref = loadReference();
  pipeline = await InferencePipeline.create(testPackDir, { forced: 'cpu' });
});

afterAll(async () => {
  await pipeline?.dispose();
});

function request(text: string, regions: AskInput['regions'] = []): AskInput {
  const names = Object.keys(ref.conventions.imageFormulas);
  // A's global view covers a 256-px image: masks must come back in A's pixels, not the 64-px view's
  const rect: Rect = [0, 0, 256, 256];
  return {
    views: [{ rect, rgb: image(names[0]!) }],
    viewsB: [{ rect, rgb: image(names[1] ?? names[0]!) }],
    regions,
    text,
    history: [],
    source: 'optical',
    mode: 'bitemporal',
    maxNewTokens: 24,
    sampling: { temperature: 0, topP: 1, seed: 0 },
    trace: true,
  };
}

async function run(input: AskInput) {
  const tokens: string[] = [];
  const masks: MaskResult[] = [];
  const r = await pipeline.ask(input, { onToken: (_i, t) => tokens.push(t), onMask: (m) => masks.push(m) });
  return { r, tokens, masks };
}

describe('bitemporal mode on the test pack', () => {
  it('splices two image blocks, streams the same tokens twice and places masks on image A', async () => {
    const a = await run(request(''));
    const b = await run(request(''));
    const m = pipeline.pack.manifest;
    const V = 1, N = m.view.tokens;
    expect(a.r.trace!.prompt).toContain(`<optical> ${m.tokens.image} <optical> ${m.tokens.image} what changed between the two images ?`);
    expect(a.r.trace!.sequenceLength).toBe(a.r.trace!.inputIds.length + 2 * V * N - 2);
    expect(a.r.trace!.generatedIds).toEqual(b.r.trace!.generatedIds);
    expect(a.tokens.join('')).toBe(a.r.text);
    expect(a.tokens).toEqual(b.tokens);
    for (const mask of a.masks) expect(mask.rect).toEqual([0, 0, 256, 256]);
  });

  it('asks about a region with "what changed in <region1> ?" and a mask when the model marks one', async () => {
    const { r, masks } = await run(request('Sure, it is <SEG> .', [{ kind: 'box', x0: 32, y0: 32, x1: 160, y1: 160 }]));
    expect(r.trace!.prompt).toContain('what changed in <region1> ?');
    // the test pack answers this pair with "… <p> white building </p> <SEG>.": one mask, deterministic (greedy)
    expect(masks.length).toBeGreaterThanOrEqual(1);
    for (const mask of masks) {
      expect(mask.rect).toEqual([0, 0, 256, 256]);
      expect(mask.regionIndex).toBe(0);
    }
  });

  it('refuses B views on other rects, and B views outside bitemporal mode', async () => {
    const bad = request('');
    bad.viewsB = [{ rect: [0, 0, 128, 128], rgb: bad.viewsB![0]!.rgb }];
    await expect(run(bad)).rejects.toThrow(/same 1 rects/);
    await expect(run({ ...request(''), mode: 'chat', text: 'hi' })).rejects.toBeInstanceOf(VantageError);
  });
});
