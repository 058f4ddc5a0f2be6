import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PackInfo } from '../contract/schemas.js';
import { graph, model, tensor } from './onnxTestProto.js';
import { loadPack, toPackInfo } from './packManifest.js';

/** A small pack of made-up graphs (protobuf the external-data check can walk): validation and hashing need no real ones. */
let dir: string;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function writePack(mutate: (m: Record<string, unknown>) => void = () => {}, pixelGraph = model(graph([]), 'pixel graph bytes')): void {
  const files: Record<string, Buffer> = {
    'grounding.onnx': model(graph([]), 'grounding graph bytes'),
    'pixel.onnx': pixelGraph,
    'tokenizer.json': Buffer.from('{}'),
  };
  for (const [n, b] of Object.entries(files)) writeFileSync(path.join(dir, n), b);
  const manifest: Record<string, unknown> = {
    contract: 1,
    name: 'tiny',
    version: '0.1.0',
    licence: 'CC0-1.0',
    family: 'earthgpt-x/geopixel',
    expectedVramMB: 3,
    sources: ['optical'],
    modes: ['segment'],
    view: { size: 64, tokens: 16, maxViews: 5, mean: [0, 0, 0], std: [1, 1, 1], maxImagePixels: 1e8 },
    grounding: { channels: 8, grid: 4, mean: [0, 0, 0], std: [1, 1, 1] },
    pixel: { maskSize: 16 },
    tokens: {
      image: '<image>', region: '<region{k}>', maxRegions: 8, seg: '<SEG>', phraseOpen: '<p>', phraseClose: '</p>',
      stop: ['</s>'], pad: '<pad>', sources: { optical: '<optical>', sar: '<sar>', infrared: '<infrared>' },
    },
    chat: { system: '{content}', user: '{content}', assistant: '{content}', assistantPrefix: '', defaultSystem: '' },
    stages: {
      grounding: { file: 'grounding.onnx', sha256: sha(files['grounding.onnx']!) },
      pixel: { file: 'pixel.onnx', sha256: sha(files['pixel.onnx']!), dtype: 'float32' },
      futureStage: { file: 'pixel.onnx', sha256: sha(files['pixel.onnx']!) },
    },
    files: { 'tokenizer.json': sha(files['tokenizer.json']!) },
    sizes: Object.fromEntries(Object.entries(files).map(([n, b]) => [n, b.length])),
    somethingNew: { kept: true },
  };
  mutate(manifest);
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-manifest-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadPack', () => {
  it('verifies every file and reports the pack as the contract’s PackInfo', async () => {
    writePack();
    const p = await loadPack(dir);
    expect(p.stages).toEqual(['grounding', 'pixel']);
    expect(p.sha256).toBe(sha(readFileSync(path.join(dir, 'manifest.json'))));
    expect(p.sizeBytes).toBe(['manifest.json', 'grounding.onnx', 'pixel.onnx', 'tokenizer.json'].reduce((a, f) => a + readFileSync(path.join(dir, f)).length, 0));
    expect(p.expectedVramMB).toBe(3);
    expect(p.builtin).toBe(false);
    expect((p.manifest as Record<string, unknown>).somethingNew).toEqual({ kept: true });
    expect(PackInfo.parse(toPackInfo(p))).toEqual(toPackInfo(p));
  });

  it('refuses a file whose bytes changed, naming the file and both hashes', async () => {
    writePack();
    const f = path.join(dir, 'pixel.onnx');
    const b = readFileSync(f);
    b[0] = b[0]! ^ 0xff;
    writeFileSync(f, b);
    await expect(loadPack(dir)).rejects.toThrow(
      new RegExp(`^model pack "tiny": file pixel\\.onnx does not match its sha256 in manifest\\.json \\(expected [0-9a-f]{64}, got ${sha(b)}\\); the pack may be corrupt or tampered with$`),
    );
  });

  it('refuses a tampered tokenizer too', async () => {
    writePack();
    writeFileSync(path.join(dir, 'tokenizer.json'), '[]'); // same size: only the hash can tell
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('file tokenizer.json does not match') });
  });

  it('refuses a missing file', async () => {
    writePack();
    unlinkSync(path.join(dir, 'grounding.onnx'));
    await expect(loadPack(dir)).rejects.toThrow(/file grounding\.onnx listed in manifest\.json is missing/);
  });

  it('refuses a newer contract with the reason', async () => {
    writePack((m) => (m.contract = 2));
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/needs pack contract 2.*supports contract 1/) });
  });

  it('a mixed pack lists each part\'s licence with its stages (shown after the summary); a part naming a missing stage is refused', async () => {
    writePack((m) => (m.licences = [{ part: 'SAM ViT-H', licence: 'Apache-2.0', stages: ['grounding', 'pixel'] }]));
    expect((await loadPack(dir)).licence).toBe('CC0-1.0 — SAM ViT-H (grounding, pixel): Apache-2.0');
    writePack((m) => (m.licences = [{ part: 'GeoChat-7B', licence: 'CC-BY-NC-SA-4.0', stages: ['decoder'] }]));
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('licences names stage(s) decoder (part "GeoChat-7B")') });
  });

  it('refuses a manifest that breaks the schema, saying where', async () => {
    writePack((m) => delete (m.view as Record<string, unknown>).size);
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('view.size') });
  });

  it('grounding.preprocess: "view" by default (contract v1), "sam" when declared, anything else refused', async () => {
    writePack(() => undefined);
    expect((await loadPack(dir)).manifest.grounding?.preprocess).toBe('view');
    writePack((m) => ((m.grounding as Record<string, unknown>).preprocess = 'sam'));
    expect((await loadPack(dir)).manifest.grounding?.preprocess).toBe('sam');
    writePack((m) => ((m.grounding as Record<string, unknown>).preprocess = 'clip'));
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('grounding.preprocess') });
  });

  it('refuses file names that leave the pack folder', async () => {
    writePack((m) => ((m.stages as Record<string, { file: string }>).pixel!.file = '../pixel.onnx'));
    await expect(loadPack(dir)).rejects.toThrow(/plain names inside the pack folder/);
  });

  it('refuses a file of another size than manifest.json declares, and a manifest whose sizes miss a file', async () => {
    writePack((m) => ((m.sizes as Record<string, number>)['pixel.onnx']! += 1));
    await expect(loadPack(dir)).rejects.toThrow(/^model pack "tiny": file pixel\.onnx is \d+ bytes but manifest\.json declares \d+; the pack is incomplete or tampered with$/);
    writePack((m) => delete (m.sizes as Record<string, number>)['tokenizer.json']);
    await expect(loadPack(dir)).rejects.toThrow(/manifest\.json gives no size for tokenizer\.json in "sizes"/);
    // packs from before sizes existed still load
    writePack((m) => delete m.sizes);
    expect((await loadPack(dir)).stages).toEqual(['grounding', 'pixel']);
  });

  it('refuses a graph whose external data lies outside the pack or is not a listed file; a listed one loads', async () => {
    for (const location of ['../../../etc/passwd', '/etc/passwd', 'unlisted.bin', 'grounding.onnx']) {
      writePack(() => {}, model(graph([tensor('w', { location })])));
      await expect(loadPack(dir)).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: expect.stringMatching(/^model pack "tiny": pixel\.onnx refers to external data ".*" that (is not a file listed in manifest\.json|is a graph); refused$/),
      });
    }
    writePack(
      (m) => {
        writeFileSync(path.join(dir, 'pixel.onnx.data'), 'weights');
        (m.files as Record<string, string>)['pixel.onnx.data'] = sha('weights');
        (m.sizes as Record<string, number>)['pixel.onnx.data'] = 7;
      },
      model(graph([tensor('w', { location: 'pixel.onnx.data' })])),
    );
    expect((await loadPack(dir)).sizeBytes).toBeGreaterThan(7);
  });

  it('refuses over-long and unsafe pack names and versions, quoting them shortened', async () => {
    writePack((m) => (m.name = 'x'.repeat(300)));
    await expect(loadPack(dir)).rejects.toThrow(/^model pack "x{77}…": manifest\.json does not follow pack contract 1 \(name: a pack name is at most 100 characters/);
    writePack((m) => (m.version = '../../1'));
    await expect(loadPack(dir)).rejects.toThrow(/version: a pack version holds letters, digits/);
  });

  it('says what to pick when the folder has no manifest', async () => {
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('has no manifest.json') });
  });
});
