import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemblePack } from '../../native-models/exporter/packAssembly.js';
import { InferencePipeline, type AskInput } from './pipeline.js';
import { loadReference, renderFormulaImage, testPackDir, type Reference } from './testPackFixtures.js';
import { PackTokenizer } from './tokenizer.js';

/**
 * `tokens.regionFormat: "geochat-box"` (PACK_CONTRACT.md "Region format") on the real test pack, in-process: the
 * regions reach the model as box text in the prompt, no `<region{k}>` id and no region row is spliced.
 */

const S = 64;
let ref: Reference;
let tmp: string;
let pipeline: InferencePipeline;
let tok: PackTokenizer;

beforeAll(async () => {
  ref = loadReference();
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-geochat-box-'));
  const manifest = JSON.parse(readFileSync(path.join(testPackDir, 'manifest.json'), 'utf8')) as { tokens: Record<string, unknown> };
  const dir = assemblePack(testPackDir, path.join(tmp, 'pack'), {}, { tokens: { ...manifest.tokens, regionFormat: 'geochat-box' } });
  pipeline = await InferencePipeline.create(dir, { forced: 'cpu' });
  tok = await PackTokenizer.load(path.join(dir, 'tokenizer.json'));
});

afterAll(async () => {
  await pipeline?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function request(mode: AskInput['mode'], text: string, regions: AskInput['regions']): AskInput {
  const name = Object.keys(ref.conventions.imageFormulas)[0]!;
  return {
    views: [{ rect: [0, 0, 256, 128], rgb: renderFormulaImage(ref.conventions.imageFormulas[name]!, S) }],
    regions,
    text,
    history: [],
    source: 'optical',
    mode,
    maxNewTokens: 12,
    sampling: { temperature: 0, topP: 1, seed: 0 },
    trace: true,
  };
}

describe('regionFormat geochat-box on the test pack', () => {
  it('writes the regions as boxes in the prompt, splices no region rows and streams the answer', async () => {
    expect(pipeline.pack.manifest.tokens.regionFormat).toBe('geochat-box');
    const tokens: string[] = [];
    const regions: AskInput['regions'] = [
      { kind: 'box', x0: 64, y0: 32, x1: 128, y1: 96 },
      { kind: 'polygon', points: [[10, 10], [50, 20], [30, 60]] },
    ];
    const r = await pipeline.ask(request('relation', 'what is it ?', regions), { onToken: (_i, t) => tokens.push(t), onMask: () => {} });
    const t = r.trace!;
    // view 256 × 128 px: x by 256, y by 128
    expect(t.prompt).toContain('<optical> <image> What is the relationship between {<25><25><50><75>} and {<3><7><20><47>}? what is it ?');
    expect(t.prompt).not.toContain('<region');
    const m = pipeline.pack.manifest;
    for (const k of [1, 2]) expect(t.inputIds).not.toContain(tok.requireId(m.tokens.region.replace('{k}', String(k))));
    expect(t.inputIds).toEqual(tok.encode(t.prompt));
    // one row per token id, plus the image block: nothing added or replaced for the regions
    expect(t.sequenceLength).toBe(t.inputIds.length + m.view.tokens - 1);
    expect(r.tokens).toBeGreaterThan(0);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.join('')).toBe(r.text);
  });

  it('opens a region caption with [identify] and a point as a small box', async () => {
    const r = await pipeline.ask(request('region-caption', '', [{ kind: 'point', x: 128, y: 64 }]), { onToken: () => {}, onMask: () => {} });
    expect(r.trace!.prompt).toContain('<image> [identify] Describe {<49><49><51><51>} briefly.');
  });
});
