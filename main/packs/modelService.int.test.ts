import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../db/database.js';
import { buildInferenceWorker } from '../inference/buildWorker.js';
import { InferenceHost } from '../inference/inferenceHost.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { ModelService } from './modelService.js';
import { generateSigningKey, packProvenanceOf, signPackDir, SIGNATURE_FILE } from './packSignature.js';
import { PackStore } from './packStore.js';
import { SettingsRepository } from '../../db/settings.js';

/** The pack manager with the real test pack, real onnxruntime in the real worker, real SQLite settings. */

let tmp: string;
let db: Db;
let host: InferenceHost;
let workerFile: string;

function zipFolder(dir: string, prefix: string, edit?: (name: string, data: Uint8Array) => Uint8Array): string {
  const files: Record<string, Uint8Array> = {};
  for (const n of readdirSync(dir)) {
    const data = new Uint8Array(readFileSync(path.join(dir, n)));
    files[`${prefix}${n}`] = edit ? edit(n, data) : data;
  }
  const out = path.join(tmp, `${prefix.replace(/\W/g, '') || 'flat'}-${Object.keys(files).length}-${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(out, zipSync(files));
  return out;
}

interface EditableManifest {
  version: string;
  files: Record<string, string>;
  stages: Record<string, { file: string }>;
  grounding: { channels: number };
}

/** a copy of the test pack under another name/version, with the manifest edited by `patch` */
function variant(version: string, patch: (m: EditableManifest, dir: string) => void = () => {}): string {
  const dir = path.join(tmp, `variant-${version}`);
  cpSync(testPackDir, dir, { recursive: true });
  const mf = path.join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(mf, 'utf8')) as EditableManifest;
  m.version = version;
  patch(m, dir);
  writeFileSync(mf, JSON.stringify(m, null, 2));
  return dir;
}

const service = (dataDir: string) =>
  new ModelService(host, { builtinDir: testPackDir, store: new PackStore(dataDir), settings: new SettingsRepository(db) });

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-packs-'));
  db = openDatabase(path.join(tmp, 'vantage.db'));
  workerFile = await buildInferenceWorker();
  host = new InferenceHost({ workerUrl: workerFile, forcedProvider: '' });
});

afterAll(async () => {
  await host?.close();
  db?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('model packs: install, list, select, remove', () => {
  const dataDir = () => path.join(tmp, 'data');

  it('refuses a tampered .zip, naming the file, and installs nothing', async () => {
    const zip = zipFolder(testPackDir, 'pack/', (name, data) => {
      if (name !== 'decoder.onnx') return data;
      const copy = data.slice();
      const mid = copy.length >> 1;
      copy[mid] = copy[mid]! ^ 0x01;
      return copy;
    });
    const models = service(dataDir());
    await expect(models.install(zip, { allowUnsigned: true })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/file decoder\.onnx does not match its sha256 in manifest\.json .*tampered/),
    });
    expect((await models.list()).map((p) => p.builtin)).toEqual([true]);
    expect(readdirSync(path.join(dataDir(), 'packs'))).toEqual([]); // no staging left behind
  });

  it('installs from a .zip, lists size, VRAM and what the pack can do, and refuses a second copy', async () => {
    const models = service(dataDir());
    const zip = zipFolder(variant('2.0.0'), 'some-folder/');
    const entry = await models.install(zip, { allowUnsigned: true });
    expect(entry).toMatchObject({ name: 'vantage-test-pack', version: '2.0.0', builtin: false, selected: false, instantMasks: true });
    expect(existsSync(path.join(dataDir(), 'packs', 'vantage-test-pack-2.0.0', 'decoder.onnx'))).toBe(true);
    expect(entry.tasks).toEqual(expect.arrayContaining(['chat', 'ground', 'segment', 'relation', 'grounded-description']));
    const list = await models.list();
    expect(list.map((p) => [p.version, p.builtin, p.selected])).toEqual([
      ['1.0.0', true, true],
      ['2.0.0', false, false],
    ]);
    expect(list[1]!.sizeBytes).toBeGreaterThan(1_000_000);
    expect(list[1]!.expectedVramMB).toBeGreaterThanOrEqual(0);
    await expect(models.install(zip, { allowUnsigned: true })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already installed') });
  });

  it('installs from a folder; a chat-only pack offers no mask modes', async () => {
    const chatOnly = variant('3.0.0-chat', (m, dir) => {
      for (const s of ['grounding', 'pixel']) {
        const f = m.stages[s]!.file;
        delete m.files[f];
        rmSync(path.join(dir, f));
        delete m.stages[s];
      }
    });
    const entry = await service(dataDir()).install(chatOnly, { allowUnsigned: true });
    expect(entry.instantMasks).toBe(false);
    expect(entry.tasks).toContain('chat');
    expect(entry.tasks).not.toContain('segment');
    expect(entry.tasks).not.toContain('ground');
  });

  it('select loads the pack and persists the choice for the next start; remove falls back to the built-in pack', async () => {
    const models = service(dataDir());
    const status = await models.select('vantage-test-pack', '2.0.0');
    expect(status).toMatchObject({ state: 'ready', pack: { version: '2.0.0', builtin: false } });
    // the next start (a new service over the same settings) uses it
    const next = service(dataDir());
    expect(next.currentDir()).toBe(path.join(dataDir(), 'packs', 'vantage-test-pack-2.0.0'));
    expect((await next.list()).find((p) => p.selected)?.version).toBe('2.0.0');

    await models.remove('vantage-test-pack', '2.0.0');
    expect(models.currentDir()).toBe(testPackDir);
    expect(models.status().pack).toMatchObject({ version: '1.0.0', builtin: true });
    await expect(models.remove('vantage-test-pack', '1.0.0')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('a pack whose manifest lies about shapes is refused at select with the tensor named; the old pack stays', async () => {
    const models = service(dataDir());
    // the hashes stay valid (only manifest.json changes), so only the shape check can catch this
    await models.install(variant('4.0.0-liar', (m) => void (m.grounding.channels = 48)), { allowUnsigned: true });
    await expect(models.select('vantage-test-pack', '4.0.0-liar')).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/manifest\.json does not match the grounding graph — output "image_embeddings" axis 1 is 32 in the graph but the manifest implies 48/),
    });
    expect(models.currentDir()).toBe(testPackDir);
    expect(host.status().state).toBe('ready');
    expect(host.status().pack?.version).toBe('1.0.0');
  });
});

describe('signed packs: trusted keys install without asking; unsigned and untrusted packs need a confirmation', () => {
  const dataDir = () => path.join(tmp, 'data-signed');
  let trustedKey: string;
  let otherKey: string;
  let trustedFp: string;
  let otherFp: string;

  beforeAll(async () => {
    ({ privateFile: trustedKey, fingerprint: trustedFp } = await generateSigningKey(path.join(tmp, 'keys', 'survey-unit')));
    ({ privateFile: otherKey, fingerprint: otherFp } = await generateSigningKey(path.join(tmp, 'keys', 'someone-else')));
    await new PackStore(dataDir()).trust.add(`${trustedKey}.pub`, 'Survey unit');
  });

  const signed = async (version: string, key: string) => {
    const dir = variant(version);
    await signPackDir(dir, key);
    return dir;
  };
  const installed = () => readdirSync(path.join(dataDir(), 'packs')).filter((n) => !n.startsWith('.')).sort();

  it('a pack signed by a trusted key installs from a .zip without asking, keeps manifest.sig, and is listed, loaded and recorded as trusted', async () => {
    const models = service(dataDir());
    const zip = zipFolder(await signed('5.0.0-signed', trustedKey), 'signed/');
    const entry = await models.install(zip);
    const trusted = { status: 'trusted', fingerprint: trustedFp, signer: 'Survey unit' };
    expect(entry).toMatchObject({ version: '5.0.0-signed', signature: trusted });
    expect(existsSync(path.join(dataDir(), 'packs', 'vantage-test-pack-5.0.0-signed', SIGNATURE_FILE))).toBe(true);
    const list = await models.list();
    expect(list.map((p) => [p.version, p.signature.status])).toEqual([
      ['1.0.0', 'unsigned'], // the built-in test pack: unsigned, listed and loaded, never blocked
      ['5.0.0-signed', 'trusted'],
    ]);
    const status = await models.select('vantage-test-pack', '5.0.0-signed');
    expect(status.pack).toMatchObject({ version: '5.0.0-signed', signature: trusted });
    // what an answer made now records as its pack's provenance
    expect(packProvenanceOf(status.pack)).toMatchObject({ version: '5.0.0-signed', signature: `trusted: Survey unit (${trustedFp})` });
    await models.select('vantage-test-pack', '1.0.0');
    expect(models.status().pack).toMatchObject({ builtin: true, signature: { status: 'unsigned' } });
  });

  it('a pack signed by a key nobody trusted, or not signed, is refused until the user confirms; then it is marked so', async () => {
    const models = service(dataDir());
    const before = installed();
    const other = await signed('6.0.0-other', otherKey);
    await expect(models.install(other)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(new RegExp(`^model pack "vantage-test-pack" is signed by an untrusted key ${otherFp}; install it only if you trust its source: pass --allow-unsigned or confirm in the Model panel`)),
      issues: [{ path: 'allowUnsigned', message: 'untrusted' }],
    });
    const plain = variant('7.0.0-plain');
    await expect(models.install(plain)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/^model pack "vantage-test-pack" is unsigned; install it only if/), issues: [{ path: 'allowUnsigned', message: 'unsigned' }] });
    expect(installed()).toEqual(before); // nothing installed, no staging left
    expect(readdirSync(path.join(dataDir(), 'packs')).filter((n) => n.startsWith('.'))).toEqual([]);

    expect((await models.install(other, { allowUnsigned: true })).signature).toEqual({ status: 'untrusted', fingerprint: otherFp, signer: null });
    expect((await models.install(plain, { allowUnsigned: true })).signature).toEqual({ status: 'unsigned', fingerprint: null, signer: null });
    const marks = Object.fromEntries((await models.list()).map((p) => [p.version, p.signature.status]));
    expect(marks).toMatchObject({ '6.0.0-other': 'untrusted', '7.0.0-plain': 'unsigned', '5.0.0-signed': 'trusted' });
  });

  it('a pack changed after signing (a swapped file with its sha256 updated in the manifest) is refused even with confirmation', async () => {
    const models = service(dataDir());
    const dir = await signed('8.0.0-tampered', trustedKey);
    // the attacker swaps tokenizer.json and fixes its sha256, so every hash check passes: only the signature can tell
    writeFileSync(path.join(dir, 'tokenizer.json'), readFileSync(path.join(dir, 'tokenizer.json'), 'utf8') + ' ');
    const mf = path.join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(mf, 'utf8')) as EditableManifest;
    m.files['tokenizer.json'] = createHash('sha256').update(readFileSync(path.join(dir, 'tokenizer.json'))).digest('hex');
    writeFileSync(mf, JSON.stringify(m, null, 2));
    const before = installed();
    for (const allowUnsigned of [false, true]) {
      await expect(models.install(dir, { allowUnsigned })).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: `model pack "vantage-test-pack": manifest.sig does not match manifest.json (key ${trustedFp}): the manifest was changed after it was signed; the pack is refused (get a fresh copy from its publisher)`,
      });
    }
    expect(installed()).toEqual(before);
  });

  it('an installed signed pack whose manifest is edited afterwards no longer loads and leaves the list', async () => {
    const models = service(dataDir());
    const mf = path.join(dataDir(), 'packs', 'vantage-test-pack-5.0.0-signed', 'manifest.json');
    writeFileSync(mf, readFileSync(mf, 'utf8').replace('"licence": "', '"licence": "relicensed '));
    await expect(models.select('vantage-test-pack', '5.0.0-signed')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await models.list()).map((p) => p.version)).not.toContain('5.0.0-signed');
    // a forced pack folder (serve --pack) with a broken signature is refused at load, with the reason as the status
    const forced = new ModelService(host, { builtinDir: testPackDir, forcedDir: path.dirname(mf) });
    await expect(forced.ensureReady()).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('manifest.sig does not match manifest.json') });
    expect(forced.status()).toMatchObject({ state: 'error', error: expect.stringContaining('the manifest was changed after it was signed') });
    expect(host.status().pack?.version).toBe('1.0.0'); // the worker kept the pack it had
  });
});
