import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PackEntry } from '../contract/calls/models.js';
import type { ModelStatus } from '../contract/index.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { repoRoot } from '../testing/data.js';

/** `vantage packs …` through the real CLI bundle: real files, real sha256 checks, real onnxruntime on select. */

const run = promisify(execFile);
const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
let dir: string;
let dataDir: string;
/** the bundled test pack under another version, so it is not mistaken for the built-in copy */
let packFolder: string;
const VERSION = '1.1.0-cli';

beforeAll(async () => {
  // always rebuild: a stale dist/ from before this command existed would test old code
  await run(process.execPath, [path.join(repoRoot, 'main/build/build.mjs'), '--backend-only'], { cwd: repoRoot });
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-cli-packs-'));
  dataDir = path.join(dir, 'data');
  packFolder = path.join(dir, 'my-pack');
  cpSync(testPackDir, packFolder, { recursive: true });
  const mf = path.join(packFolder, 'manifest.json');
  writeFileSync(mf, JSON.stringify({ ...(JSON.parse(readFileSync(mf, 'utf8')) as object), version: VERSION }, null, 2));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vantage = (...args: string[]) => run(process.execPath, [cli, '--data-dir', dataDir, ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });
const json = async <T>(...args: string[]) => JSON.parse((await vantage(...args, '--json')).stdout) as T;
const installedDir = () => path.join(dataDir, 'packs', `vantage-test-pack-${VERSION}`);

it('installs a pack folder, lists, selects, verifies, catches a tampered file by name, and removes it', async () => {
  const entry = await json<PackEntry>('packs', 'install', packFolder, '--allow-unsigned');
  expect(entry).toMatchObject({ name: 'vantage-test-pack', version: VERSION, builtin: false, selected: false, instantMasks: true });
  expect(entry.stages).toEqual(['vision', 'prompt', 'embed', 'decoder', 'grounding', 'pixel']);
  expect(existsSync(path.join(installedDir(), 'decoder.onnx'))).toBe(true);

  let list = await json<PackEntry[]>('packs', 'list');
  expect(list.map((p) => [p.version, p.builtin, p.selected])).toEqual([
    ['1.0.0', true, true],
    [VERSION, false, false],
  ]);
  expect(list[1]!.sizeBytes).toBeGreaterThan(1_000_000);
  const table = (await vantage('packs', 'list')).stdout.split('\n');
  expect(table[0]).toMatch(/NAME\s+VERSION\s+SIZE\s+STAGES\s+SIGNATURE/);
  expect(table[1]).toMatch(/^\*\s+vantage-test-pack\s+1\.0\.0\s+[\d.]+ MB\s+vision,prompt,embed,decoder,grounding,pixel\s+unsigned\s+built-in$/);
  expect(table[2]).toMatch(new RegExp(`^\\s+vantage-test-pack\\s+${VERSION.replace(/\./g, '\\.')}\\s+[\\d.]+ MB`));

  // two versions under one name: the version must be named
  await expect(vantage('packs', 'select', 'vantage-test-pack')).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/2 versions of model pack vantage-test-pack are installed \(1\.0\.0, 1\.1\.0-cli\): name one/),
  });
  const status = await json<ModelStatus>('packs', 'select', 'vantage-test-pack', VERSION);
  expect(status).toMatchObject({ state: 'ready', pack: { name: 'vantage-test-pack', version: VERSION, builtin: false } });
  list = await json<PackEntry[]>('packs', 'list');
  expect(list.filter((p) => p.selected).map((p) => p.version)).toEqual([VERSION]); // persisted in the data folder

  const ok = await json<PackEntry & { verifiedFiles: number }>('packs', 'verify', 'vantage-test-pack', VERSION);
  expect(ok).toMatchObject({ name: 'vantage-test-pack', version: VERSION, selected: true, verifiedFiles: 7 });
  expect((await vantage('packs', 'verify', 'vantage-test-pack', VERSION)).stdout).toMatch(/vantage-test-pack 1\.1\.0-cli: all 7 files match their sha256/);

  // one flipped byte in an installed graph: verify names the file and exits non-zero
  const victim = path.join(installedDir(), 'grounding.onnx');
  const bytes = readFileSync(victim);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
  writeFileSync(victim, bytes);
  await expect(vantage('packs', 'verify', 'vantage-test-pack', VERSION)).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/^vantage: model pack "vantage-test-pack": file grounding\.onnx does not match its sha256 in manifest\.json .*tampered/),
  });
  // the built-in pack is untouched and still verifies
  expect(await json<{ builtin: boolean; verifiedFiles: number }>('packs', 'verify', 'vantage-test-pack', '1.0.0')).toMatchObject({ builtin: true, verifiedFiles: 7 });

  expect(await json<{ ok: boolean }>('packs', 'remove', 'vantage-test-pack', VERSION)).toEqual({ ok: true });
  expect(existsSync(installedDir())).toBe(false);
  list = await json<PackEntry[]>('packs', 'list');
  expect(list.map((p) => [p.version, p.builtin, p.selected])).toEqual([['1.0.0', true, true]]);
  await expect(vantage('packs', 'remove', 'vantage-test-pack')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/the built-in pack cannot be removed/) });
  await expect(vantage('packs', 'verify', 'no-such-pack')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/model pack no-such-pack is not installed \(installed: vantage-test-pack 1\.0\.0\)/) });
  await expect(vantage('packs', 'frob')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/unknown packs command "frob"/) });
}, 120_000);

it('installs from a .zip of the pack folder, refuses a second copy, and the install verifies', async () => {
  const files: Record<string, Uint8Array> = {};
  for (const n of readdirSync(packFolder)) files[`my-pack/${n}`] = new Uint8Array(readFileSync(path.join(packFolder, n)));
  const zip = path.join(dir, 'my-pack.zip');
  writeFileSync(zip, zipSync(files));

  const out = (await vantage('packs', 'install', zip, '--allow-unsigned')).stdout;
  expect(out).toMatch(new RegExp(`^installed vantage-test-pack ${VERSION.replace(/\./g, '\\.')} \\([\\d.]+ MB; vision, prompt, embed, decoder, grounding, pixel\\)`));
  expect(readdirSync(path.join(dataDir, 'packs'))).toEqual([`vantage-test-pack-${VERSION}`]); // no staging left behind
  await expect(vantage('packs', 'install', zip, '--allow-unsigned')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/already installed; remove it first/) });
  expect(await json<{ verifiedFiles: number; builtin: boolean }>('packs', 'verify', 'vantage-test-pack', VERSION)).toMatchObject({ builtin: false, verifiedFiles: 7 });
  await expect(vantage('packs', 'install', path.join(dir, 'nothing-here.zip'))).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no pack at .*nothing-here\.zip/) });
}, 120_000);

it('signing: keygen, sign (also through the exporter), trust; a trusted pack installs without a flag, others need --allow-unsigned', async () => {
  const keys = path.join(dir, 'keys');
  const gen = await json<{ fingerprint: string; publicFile: string }>('packs', 'keygen', path.join(keys, 'survey'));
  expect(gen.publicFile).toBe(path.join(keys, 'survey.pub'));

  // a bad key file is refused with one line naming it (more cases: packSignature.test.ts)
  writeFileSync(path.join(keys, 'bad.pub'), 'not a key');
  const bad = vantage('packs', 'trust', path.join(keys, 'bad.pub'));
  await expect(bad).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/^vantage: .*bad\.pub is not an Ed25519 public key \(expected a PEM "PUBLIC KEY" block or the 32-byte key in base64\); give the \.pub file written by vantage packs keygen\n$/) });

  // the exporter's signing path (export_pack.py --sign-key calls sign_pack) on a copy of the pack
  const signedDir = path.join(dir, 'signed-pack');
  cpSync(packFolder, signedDir, { recursive: true });
  const mf = path.join(signedDir, 'manifest.json');
  writeFileSync(mf, JSON.stringify({ ...(JSON.parse(readFileSync(mf, 'utf8')) as object), version: '2.0.0-signed' }, null, 2));
  const py = await run('/usr/bin/python3', [path.join(repoRoot, 'native-models/exporter/sign_pack.py'), signedDir, '--key', path.join(keys, 'survey')], { cwd: repoRoot });
  expect(py.stdout).toContain(`signed vantage-test-pack 2.0.0-signed with key ${gen.fingerprint}`);
  expect(existsSync(path.join(signedDir, 'manifest.sig'))).toBe(true);

  // not trusted yet: refused without the flag (no terminal to ask in), naming the key
  await expect(vantage('packs', 'install', signedDir)).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(new RegExp(`^vantage: model pack "vantage-test-pack" is signed by an untrusted key ${gen.fingerprint}; install it only if you trust its source: pass --allow-unsigned`)),
  });
  expect((await vantage('packs', 'trust', path.join(keys, 'survey.pub'), '--name', 'Survey unit')).stdout).toBe(`trusted key ${gen.fingerprint} as "Survey unit": packs it signs install without a prompt\n`);
  expect((await vantage('packs', 'keys')).stdout).toMatch(new RegExp(`^${gen.fingerprint}  Survey unit  \\(trusted \\d{4}-\\d{2}-\\d{2}\\)\n$`));
  const installed = await json<PackEntry>('packs', 'install', signedDir);
  expect(installed.signature).toEqual({ status: 'trusted', fingerprint: gen.fingerprint, signer: 'Survey unit' });
  const table = (await vantage('packs', 'list')).stdout;
  expect(table).toMatch(new RegExp(`2\\.0\\.0-signed .* trusted: Survey unit \\(${gen.fingerprint}\\)`));

  // sign refuses a pack whose files do not match their sha256 (a signer vouches only for what the manifest says)
  const broken = path.join(dir, 'broken-pack');
  cpSync(packFolder, broken, { recursive: true });
  writeFileSync(path.join(broken, 'tokenizer.json'), '{}');
  await expect(vantage('packs', 'sign', broken, '--key', path.join(keys, 'survey'))).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/^vantage: model pack "vantage-test-pack": file tokenizer\.json .*tampered/) });
  expect(existsSync(path.join(broken, 'manifest.sig'))).toBe(false);
  // …and a signed manifest edited afterwards (its hashes fixed up) is refused even with --allow-unsigned
  const tampered = path.join(dir, 'tampered-pack');
  cpSync(signedDir, tampered, { recursive: true });
  writeFileSync(path.join(tampered, 'tokenizer.json'), `${readFileSync(path.join(tampered, 'tokenizer.json'), 'utf8')} `);
  const m = JSON.parse(readFileSync(path.join(tampered, 'manifest.json'), 'utf8')) as { version: string; files: Record<string, string>; sizes?: Record<string, number> };
  m.version = '3.0.0-tampered';
  m.files['tokenizer.json'] = createHash('sha256').update(readFileSync(path.join(tampered, 'tokenizer.json'))).digest('hex');
  if (m.sizes) m.sizes['tokenizer.json'] = readFileSync(path.join(tampered, 'tokenizer.json')).length;
  writeFileSync(path.join(tampered, 'manifest.json'), JSON.stringify(m, null, 2));
  await expect(vantage('packs', 'install', tampered, '--allow-unsigned')).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/manifest\.sig does not match manifest\.json .*changed after it was signed; the pack is refused/),
  });

  expect((await vantage('packs', 'untrust', 'Survey unit')).stdout).toBe(`no longer trusted: Survey unit (${gen.fingerprint})\n`);
  expect((await json<PackEntry[]>('packs', 'list')).find((p) => p.version === '2.0.0-signed')?.signature.status).toBe('untrusted');
}, 120_000);
