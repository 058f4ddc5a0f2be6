import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegionGeometry } from '../../../main/contract/geometry.js';
import { renderChatPrompt, type HistoryTurn, type PromptRequest } from '../../../main/inference/chatPrompt.js';
import type { PackManifest } from '../../../main/inference/packManifest.js';
import { PackTokenizer } from '../../../main/inference/tokenizer.js';
import { describeRequiring } from '../../../main/testing/data.js';
import { python } from '../../../main/testing/python.js';

/**
 * GeoChat chat template fidelity (issue 14, item 1; README.md "Model fidelity table"): the manifest fields the
 * exporter writes for GeoChat packs (geochat_chat.json) rendered by the app's renderChatPrompt must give the prompt
 * GeoChat's own conversation.py (conv_templates["llava_v1"], mbzuai-oryx/GeoChat 4850920e) gives for the same turns,
 * and the pack's tokenizer (sp_tokenizer.py on tiny_sp.model plus the GeoChat pack's added tokens, as export_pack.py
 * writes it) the ids GeoChat's tokenizer_image_token gives with transformers' slow LlamaTokenizer (image index −200
 * where our `<image>` id stands). Fixture: tok_fixtures/geochat_template.json (tok_geochat_template.py).
 * Negative tests: a wrong separator after an answer, the default `<optical> <image> ` opening, the demo's spacing,
 * `<p>` as a special token.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const fix = path.join(here, 'tok_fixtures');
interface Case { name: string; turns: [string, string][]; prompt: string; ids: number[] }
const geochat = JSON.parse(readFileSync(path.join(fix, 'geochat_template.json'), 'utf8')) as { geochat_commit: string; image_token_index: number; system: string; cases: Case[] };
const packChat = JSON.parse(readFileSync(path.join(here, '..', 'geochat_chat.json'), 'utf8')) as { tokens: Partial<PackManifest['tokens']>; chat: PackManifest['chat'] };
const testpack = JSON.parse(readFileSync(path.join(here, '..', '..', 'testpack', 'pack', 'manifest.json'), 'utf8')) as PackManifest;

type Manifest = Pick<PackManifest, 'chat' | 'tokens'>;
const geochatManifest: Manifest = { tokens: { ...testpack.tokens, ...packChat.tokens, regionFormat: 'geochat-box' }, chat: packChat.chat };

const VIEW: [number, number, number, number] = [0, 0, 200, 200];
const BOX: RegionGeometry = { kind: 'box', x0: 150, y0: 20, x1: 50, y1: 100 }; // {<25><10><75><50>} on VIEW
const HISTORY: HistoryTurn[] = [{ role: 'user', text: 'How many ships are in the harbour?' }, { role: 'assistant', text: 'There are 3 ships.' }];
/** What an analyst does in Vantage for each of GeoChat's turns: mode, typed text, regions, earlier turns. */
const OURS: Record<string, Pick<PromptRequest, 'mode' | 'text' | 'history' | 'regionCount' | 'regions'>> = {
  chat: { mode: 'chat', text: 'How many aircraft are parked on the apron?', history: [], regionCount: 0 },
  refer: { mode: 'segment', text: 'white truck', history: [], regionCount: 0 },
  identify: { mode: 'refer-classify', text: '', history: [], regionCount: 1, regions: [BOX] },
  grounding: { mode: 'grounded-description', text: '', history: [], regionCount: 0 },
  'multi-turn': { mode: 'chat', text: 'Which one is the largest?', history: HISTORY, regionCount: 0 },
  'multi-turn-refer': { mode: 'segment', text: 'the largest ship', history: HISTORY, regionCount: 0 },
};

const render = (m: Manifest, name: string) => renderChatPrompt(m, { ...OURS[name]!, source: 'optical', view: VIEW }).text;
/** GeoChat's prompt string as Vantage spells it: the BOS its tokenizer adds is written out (`<s>`). */
const expectedText = (c: Case) => `<s>${c.prompt}`;

describe(`GeoChat conversation template (GeoChat ${geochat.geochat_commit.slice(0, 8)}, llava_v1)`, () => {
  it('the fixture covers single turns, each task tag and multi-turn, and GeoChat\'s own system text', () => {
    expect(geochat.cases.map((c) => c.name).sort()).toEqual(Object.keys(OURS).sort());
    expect(geochat.cases.filter((c) => /\[(refer|identify|grounding)\]/.test(c.prompt)).length).toBe(4);
    expect(geochat.cases.filter((c) => c.prompt.includes('</s>USER:')).length).toBe(2);
    expect(packChat.chat.defaultSystem).toBe(geochat.system);
  });

  it.each(geochat.cases.map((c) => [c.name, c] as const))('%s: our rendered prompt is GeoChat\'s string', (name, c) => {
    expect(render(geochatManifest, name)).toBe(expectedText(c));
  });

  it('negative: a space instead of </s> after an answer, the default image opening, or GeoChat\'s demo spacing fail', () => {
    const multi = geochat.cases.find((c) => c.name === 'multi-turn')!;
    const wrongSep = { ...geochatManifest, chat: { ...geochatManifest.chat, assistant: 'ASSISTANT: {content} ' } };
    expect(render(wrongSep, 'multi-turn')).not.toBe(expectedText(multi));
    const chat = geochat.cases.find((c) => c.name === 'chat')!;
    // without chat.imagePrefix: the default opening "{source} {image} " with the test pack's source tags
    const { imagePrefix: _dropped, ...chatNoPrefix } = geochatManifest.chat;
    const defaultOpening = { tokens: { ...geochatManifest.tokens, sources: testpack.tokens.sources }, chat: chatNoPrefix };
    expect(render(defaultOpening, 'chat')).not.toBe(expectedText(chat));
    // GeoChat's gradio demo joins "<image>\n" and the question with a space; its eval scripts (the fixture) do not
    const demoSpacing = { ...geochatManifest, chat: { ...geochatManifest.chat, imagePrefix: '{image}\n ' } };
    expect(render(demoSpacing, 'chat')).not.toBe(expectedText(chat));
  });
});

const pyMissing = spawnSync(python, ['-c', 'import onnx, numpy'], { encoding: 'utf8' }).status === 0 ? null : `${python} cannot import onnx and numpy (apt install python3-onnx python3-numpy)`;
// local only: the same ids check on the LLaMA-2 tokenizer.model (tok_geochat_template.py --model … --out …)
const realModel = process.env.VANTAGE_LLAMA_SP_MODEL;
const realExpected = process.env.VANTAGE_GEOCHAT_LLAMA_EXPECTED;

describeRequiring('GeoChat prompt ids: the GeoChat pack tokenizer vs GeoChat tokenizer_image_token', pyMissing, () => {
  let tmp = '';
  let tok: PackTokenizer;
  let tokWithP: PackTokenizer;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-geochat-tok-'));
    // the tokenizer export_pack.py writes for a GeoChat pack: the converted tokenizer.model + the manifest's tokens
    const script = (pTags: boolean) => [
      'import json, sys; sys.path.insert(0, sys.argv[1])',
      'from sp_tokenizer import convert_file, with_pack_tokens',
      'from export_pack import manifest_tokens',
      'tok = convert_file(sys.argv[2], sys.argv[3])',
      `with_pack_tokens(tok, manifest_tokens({"region_format": "geochat-box"})${pTags ? ' + ["<p>", "</p>"]' : ''})`,
      'json.dump(tok, open(sys.argv[3], "w"), ensure_ascii=False)',
    ].join('\n');
    const runs = [[false, 'geochat.json', path.join(fix, 'tiny_sp.model')], [true, 'withp.json', path.join(fix, 'tiny_sp.model')]] as [boolean, string, string][];
    if (realModel && realExpected) runs.push([false, 'llama.json', realModel]);
    for (const [pTags, out, model] of runs) {
      const r = spawnSync(python, ['-c', script(pTags), path.join(here, '..'), model, path.join(tmp, out)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tokenizer export failed: ${r.stderr}`);
    }
    tok = await PackTokenizer.load(path.join(tmp, 'geochat.json'));
    tokWithP = await PackTokenizer.load(path.join(tmp, 'withp.json'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('export_pack.py writes this chat section into a GeoChat (geochat-box) manifest, which renders GeoChat\'s prompts', () => {
    const dir = path.join(tmp, 'manifest');
    const script = [
      'import os, sys; sys.path.insert(0, sys.argv[1]); os.makedirs(sys.argv[2]); open(os.path.join(sys.argv[2], "tokenizer.json"), "w").write("{}")',
      'import export_pack; from configs import CONFIGS',
      'export_pack.write_manifest(dict(CONFIGS["tiny"], region_format="geochat-box"), sys.argv[2], "geochat", "fp32", [], {"config": "tiny", "weights": "w", "attention": "matmul", "dtype": "float32"})',
    ].join('\n');
    const r = spawnSync(python, ['-c', script, path.join(here, '..'), dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`write_manifest failed: ${r.stderr}`);
    const written = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(written.chat).toEqual(packChat.chat);
    expect(written.tokens.regionFormat).toBe('geochat-box');
    for (const c of geochat.cases) expect(render(written, c.name), c.name).toBe(expectedText(c));
  });

  const geochatIds = (c: Case, imageId: number) => c.ids.map((id) => (id === geochat.image_token_index ? imageId : id));

  it.each(geochat.cases.map((c) => [c.name, c] as const))('%s: ids identical to GeoChat\'s', (name, c) => {
    const imageId = tok.requireId(geochatManifest.tokens.image);
    expect(tok.encode(render(geochatManifest, name))).toEqual(geochatIds(c, imageId));
  });

  it.skipIf(!realModel || !realExpected)('the LLaMA-2 tokenizer.model (VANTAGE_LLAMA_SP_MODEL + VANTAGE_GEOCHAT_LLAMA_EXPECTED, local only)', async () => {
    const llama = await PackTokenizer.load(path.join(tmp, 'llama.json'));
    const exp = JSON.parse(readFileSync(realExpected!, 'utf8')) as { cases: Case[] };
    const imageId = llama.requireId(geochatManifest.tokens.image);
    for (const c of exp.cases) expect(llama.encode(render(geochatManifest, c.name)), c.name).toEqual(geochatIds(c, imageId));
    console.log(`LLaMA-2 tokenizer: GeoChat prompt ids identical on ${exp.cases.length}/${exp.cases.length} turns (${exp.cases.reduce((n, c) => n + c.ids.length, 0)} ids)`);
  });

  it('negative: `<p>`/`</p>` as special tokens (the default pack tokens) change the [refer] prompts\' ids', () => {
    const refer = geochat.cases.find((c) => c.name === 'refer')!;
    const imageId = tokWithP.requireId(geochatManifest.tokens.image);
    expect(tokWithP.encode(render(geochatManifest, 'refer'))).not.toEqual(geochatIds(refer, imageId));
  });
});
