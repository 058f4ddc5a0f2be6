import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PackEntry } from '../../main/contract/calls/models.js';
import { buildInferenceWorker } from '../../main/inference/buildWorker.js';
import { InferenceHost } from '../../main/inference/inferenceHost.js';
import { describeWithTorch, python } from '../../main/testing/python.js';

/**
 * README.md "Recipe": the ```recipe block is taken out of the README and run verbatim with `bash -e` on fake
 * GeoChat-7B / SAM ViT-H checkpoints in the released layouts (recipe_fakes.py); only the variables the recipe reads
 * (GEOCHAT_DIR, SAM_CKPT, PACK_OUT) and the CLI's data folder (VANTAGE_DATA_DIR) point at temporary paths, and
 * `python3` on PATH is the interpreter with torch. Then the installed pack is checked and answers through the app's
 * worker path. Needs torch (skipped locally without it, required under CI) and the built CLI (`npm test` builds).
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
const NAME = 'geochat-7b-sam-vit-h';

/** the commands of the README's ```recipe block, as written */
export function recipeBlock(readme: string): string {
  const blocks = [...readme.matchAll(/^```recipe\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  if (blocks.length !== 1) throw new Error(`README.md must hold exactly one \`\`\`recipe block (found ${blocks.length})`);
  return blocks[0]!;
}

let tmp: string;
let env: NodeJS.ProcessEnv;
let dataDir: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-recipe-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describeWithTorch('README recipe: released GeoChat-7B + SAM ViT-H layouts -> an installed mixed pack', () => {
  it('runs the recipe block verbatim on fake checkpoints; the installed pack is signed, lists both licences and answers', async () => {
    expect(existsSync(cli), `${cli} is missing: npm run build`).toBe(true);
    const geochat = path.join(tmp, 'geochat-7B');
    const sam = path.join(tmp, 'sam_vit_h_4b8939.pth');
    const fakes = spawnSync(python, [path.join(here, 'recipe_fakes.py'), '--geochat', geochat, '--sam', sam], { encoding: 'utf8' });
    expect(fakes.status, fakes.stderr).toBe(0);

    const bin = path.join(tmp, 'bin');
    mkdirSync(bin);
    symlinkSync(python, path.join(bin, 'python3')); // the recipe says `python3`: the one with torch + onnx
    dataDir = path.join(tmp, 'data');
    env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, GEOCHAT_DIR: geochat, SAM_CKPT: sam, PACK_OUT: path.join(tmp, 'packs'), VANTAGE_DATA_DIR: dataDir };
    const script = path.join(tmp, 'recipe.sh');
    const block = recipeBlock(readFileSync(path.join(here, 'README.md'), 'utf8'));
    expect(block).toMatch(/export_pack\.py .*--sam-checkpoint "\$SAM_CKPT"/);
    expect(block).toMatch(/vantage packs install/);
    writeFileSync(script, block);
    const t0 = Date.now();
    const r = spawnSync('bash', ['-e', '-x', script], { cwd: repoRoot, env, encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 26 });
    const log = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => !/Warning|^\s+(dist|q|k|rel|if|att|_C\.)/.test(l)).slice(-60).join('\n');
    expect(r.status, `the README recipe failed:\n${log}`).toBe(0);
    console.log(`recipe: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const list = JSON.parse(spawnSync(process.execPath, [cli, 'packs', 'list', '--json'], { env, encoding: 'utf8' }).stdout) as PackEntry[];
    const entry = list.find((p) => p.name === NAME)!;
    expect(entry, JSON.stringify(list)).toBeDefined();
    expect(entry).toMatchObject({ selected: true, builtin: false, stages: ['vision', 'prompt', 'embed', 'decoder', 'grounding', 'pixel'] });
    expect(entry.signature).toMatchObject({ status: 'trusted', signer: 'my packs' });
    expect(entry.licence).toContain('GeoChat-7B (vision, prompt, embed, decoder): Apache-2.0');
    expect(entry.licence).toContain('SAM ViT-H (grounding, pixel): Apache-2.0');

    const installed = path.join(dataDir, 'packs', `${NAME}-${entry.version}`);
    const m = JSON.parse(readFileSync(path.join(installed, 'manifest.json'), 'utf8')) as {
      view: object; tokens: { regionFormat?: string }; llm: object; stages: { decoder: { dtype: string } }; grounding: object; pixel: { maskSize: number };
    };
    // GeoChat's tower at 504 px (24x24 CLIP positions resized to 36x36), its box regions, tokenizer from tokenizer.model
    expect(m.view).toMatchObject({ size: 504, tokens: 1296, pad: 'square', maxViews: 1 });
    expect(m.tokens.regionFormat).toBe('geochat-box');
    expect(m.llm).toMatchObject({ hidden: 64, layers: 2, heads: 4, kvHeads: 4, staticKvCache: true });
    expect(m.stages.decoder.dtype).toBe('float16');
    // SAM ViT-H geometry read from the .pth (one 80-wide head, 4 blocks in the fake): SAM's own 1024-px input (grid
    // 64, 256² low-res masks) beside GeoChat's 504-px view, fed SamPredictor's preprocessing
    expect(m.grounding).toMatchObject({ channels: 256, grid: 64, size: 1024, preprocess: 'sam' });
    expect(m.pixel.maskSize).toBe(256);
    const tok = JSON.parse(readFileSync(path.join(installed, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    expect(Object.keys(tok.model.vocab).length).toBe(1200); // the fake's tokenizer.model, not the padded test tokenizer

    // LLaVA / GeoChat: the prompt stage hands the projected CLIP tokens to the LLM unchanged
    const prompt = await ort.InferenceSession.create(path.join(installed, 'prompt.onnx'), { executionProviders: ['cpu'] });
    const vt = Float32Array.from({ length: 1296 * 64 }, (_, i) => Math.sin(i * 0.37));
    const pOut = await prompt.run({ visual_tokens: new ort.Tensor('float32', vt, [1, 1296, 64]), region_masks: new ort.Tensor('float32', new Float32Array(504 * 504), [1, 504, 504]) });
    const ie = pOut.image_embeds!.data as Float32Array;
    expect(ie.length).toBe(vt.length);
    expect(Math.max(...Array.from(ie, (v, i) => Math.abs(v - vt[i]!)))).toBe(0);
    await prompt.release();

    const host = new InferenceHost({ workerUrl: await buildInferenceWorker(), forcedProvider: '' });
    try {
      const loaded = await host.loadPack(installed);
      expect(loaded.pack.name).toBe(NAME);
      const S = 504;
      const rgb = Uint8Array.from({ length: S * S * 3 }, (_, i) => (i * 7 + ((i / (S * 3)) | 0) * 3) & 0xff);
      const a = await host.ask(
        { views: [{ rect: [0, 0, S, S], rgb }], regions: [], text: 'what is in the image?', history: [], source: 'optical', mode: 'chat', maxNewTokens: 4, sampling: { temperature: 0, topP: 1, seed: 0 }, trace: true },
        () => undefined,
        new AbortController().signal,
      );
      expect(a.tokens).toBeGreaterThan(0);
      expect(a.trace!.firstLogits.length).toBeGreaterThanOrEqual(1200);
      // SAM at 1024 px behind the 504-px view: an instant mask on a 1024² grounding view (InstantMaskService's tile)
      const G = 1024;
      const tile = Uint8Array.from({ length: G * G * 3 }, (_, i) => (i * 5 + ((i / (G * 3)) | 0)) & 0xff);
      const im = await host.instantMask({ rect: [0, 0, G, G], rgb: tile, key: 'recipe-tile' }, { kind: 'box', x0: 100, y0: 120, x1: 700, y1: 650 });
      expect(im.size).toBe(G); // SAM's final mask: the 256² low-res logits upsampled to the 1024² input
      expect(im.data.length).toBe(G * G);
    } finally {
      await host.close();
    }
  }, 300_000);
});
