import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VantageError } from '../contract/errors.js';
import { graph, model, tensor } from '../inference/onnxTestProto.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import {
  bigStoredEntry,
  bombEntry,
  fileEntry,
  manifestBytes,
  packEntries,
  putFile,
  readPack,
  writeZip,
  type CraftedEntry,
  type PackFiles,
} from './bench/craftZip.js';
import { buildInstallChild, installInChild } from './bench/installChildRunner.js';
import { PackStore } from './packStore.js';

/**
 * Crafted pack zips and folders against the real PackStore (real files, real zip reader, real hashing): each is
 * refused with one line naming the file and what is wrong, or installed safely; nothing lands outside the packs
 * folder and no `.staging-*` is left. The bomb, the home folder and a 300 MB zip run in a child process whose
 * peak RSS and written bytes are asserted.
 */

let tmp: string;
let child: string;
/** a folder beside the data folder: zip-slip entries aim at it */
let outside: string;
let n = 0;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-pack-install-'));
  outside = path.join(tmp, 'outside');
  mkdirSync(outside);
  child = await buildInstallChild();
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fresh = () => path.join(tmp, `data-${++n}`);
const pack = (version = `9.${n}.0`): PackFiles => readPack(testPackDir, version);
const zipOf = (entries: CraftedEntry[], name = `case-${++n}.zip`) => {
  const f = path.join(tmp, name);
  writeZip(f, entries);
  return f;
};
function folderOf(p: PackFiles, name = `folder-${++n}`): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'manifest.json'), manifestBytes(p));
  for (const [f, b] of p.files) writeFileSync(path.join(dir, f), b);
  return dir;
}

/** nothing in the packs folder but installed packs (no staging), and nothing written beside the data folder */
function expectClean(dataDir: string, installed: string[] = []): void {
  const packs = path.join(dataDir, 'packs');
  expect(existsSync(packs) ? readdirSync(packs) : []).toEqual(installed);
  expect(readdirSync(outside)).toEqual([]);
  expect(readdirSync(dataDir).filter((f) => f !== 'packs')).toEqual([]);
}

/** installs `source` in this process and expects a one-line refusal matching `message` (and naming `named`) */
async function refused(source: string, message: RegExp, named = path.basename(source)): Promise<string> {
  const dataDir = fresh();
  mkdirSync(dataDir);
  const err = await new PackStore(dataDir).install(source, { allowUnsigned: true }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VantageError);
  const msg = (err as VantageError).message;
  expect(msg).toMatch(message);
  expect(msg).not.toMatch(/\n|\bat .*\.ts:\d+/); // one line, no stack
  expect(msg.length).toBeLessThan(500);
  expect(msg).toContain(named);
  expectClean(dataDir);
  return msg;
}

describe('pack zips are read entry by entry, each capped at its declared size', () => {
  it('a zip bomb (1 MB expanding to 1 GiB, its headers honest, in a file declared 11,901 bytes) stops at the declared size: bounded RSS and bytes written', async () => {
    const p = pack();
    const entries = packEntries(p).filter((e) => !String(e.name).endsWith('tokenizer.json'));
    entries.push(bombEntry('pack/tokenizer.json', 1024, 1024 << 20));
    const zip = zipOf(entries);
    expect(statSync(zip).size).toBeLessThan(4e6);
    const dataDir = fresh();
    mkdirSync(dataDir);
    const r = await installInChild(child, dataDir, zip);
    expect((r.peakKiB - r.baseKiB) / 1024).toBeLessThan(100); // HEAD: inflates it all in memory (4.2 GB for 4 GiB)
    if (r.writtenBytes !== null) expect(r.writtenBytes).toBeLessThan(2.5e6 + 11_901 + (1 << 20)); // the other pack files + at most one chunk
    expect(r.ms).toBeLessThan(10_000);
    expect(r).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    expect(r.error).toMatch(/^case-\d+\.zip: tokenizer\.json holds more than the 11901 bytes manifest\.json declares; refused \(a corrupt pack or a zip bomb\)$/);
    expectClean(dataDir);
  }, 60_000);

  it('refuses an entry larger than declared, and one shorter than declared, naming the file', async () => {
    const big = pack();
    big.manifest.sizes!['pixel.onnx'] = 1000;
    await refused(zipOf(packEntries(big)), /: pixel\.onnx holds more than the 1000 bytes manifest\.json declares; refused/);
    const short = pack();
    short.manifest.sizes!['pixel.onnx']! += 10;
    await refused(zipOf(packEntries(short)), /: pixel\.onnx is 205079 bytes but manifest\.json declares 205089; the pack is incomplete or tampered with$/);
  });

  it('refuses zip-slip, absolute, backslash, over-long, symlink, special-file and encrypted entries before inflating anything', async () => {
    const cases: [CraftedEntry, RegExp][] = [
      [fileEntry('pack/../../outside/evil', Buffer.from('x')), /unsafe zip entry in case-\d+\.zip "pack\/\.\.\/\.\.\/outside\/evil": it climbs out with \.\.; refused/],
      [fileEntry(`${outside}/evil`, Buffer.from('x')), /unsafe zip entry in case-\d+\.zip ".*\/outside\/evil": it is absolute; refused/],
      // backslashes read as separators (as Windows tools write them): climbing out is refused the same way
      [fileEntry('pack\\..\\..\\evil', Buffer.from('x')), /unsafe zip entry in case-\d+\.zip "pack\/\.\.\/\.\.\/evil": it climbs out with \.\.; refused/],
      [fileEntry(`pack/${'n'.repeat(300)}`, Buffer.from('x')), /a part of it is longer than 200 bytes; refused/],
      [fileEntry(Buffer.alloc(5000, 0x61), Buffer.from('x')), /holds an entry name of 5000 bytes \(at most 1024\); refused/],
      [fileEntry('pack/tokenizer.json', Buffer.from('/etc/passwd'), { unixMode: 0o120777, method: 0 }), /entry "pack\/tokenizer\.json" is a symbolic link; refused/],
      [fileEntry('pack/fifo', Buffer.alloc(0), { unixMode: 0o010644 }), /entry "pack\/fifo" is not a regular file or folder; refused/],
      [fileEntry('pack/tokenizer.json', Buffer.from('x'), { flags: 1 }), /entry "pack\/tokenizer\.json" is encrypted; refused/],
    ];
    for (const [bad, message] of cases) {
      const p = pack();
      const entries = packEntries(p).filter((e) => e.name !== bad.name);
      await refused(zipOf([...entries, bad]), message);
      expect(existsSync(path.join(outside, 'evil'))).toBe(false);
    }
  });

  it('refuses duplicate entries, names that differ only in case, and a file and a folder of the same name (HEAD: EEXIST)', async () => {
    const p = pack();
    const entries = packEntries(p);
    await refused(zipOf([...entries, fileEntry('pack/tokenizer.json', Buffer.from('{}'))]), /entry "pack\/tokenizer\.json" appears twice; refused/);
    await refused(zipOf([...entries, fileEntry('pack/TOKENIZER.json', Buffer.from('{}'))]), /entry "pack\/TOKENIZER\.json" clashes with "pack\/tokenizer\.json" \(same name ignoring case\); refused/);
    await refused(zipOf([...entries, fileEntry('pack/tokenizer.json/x', Buffer.from('{}'))]), /case-\d+\.zip holds both a file and a folder named "pack\/tokenizer\.json"; refused/);
  });

  it('refuses an empty zip, a truncated zip, a text file called .zip and a zip without manifest.json in one line (HEAD: ENOENT scandir)', async () => {
    await refused(zipOf([]), /^case-\d+\.zip: no manifest\.json in the chosen pack; choose the folder \(or \.zip\) that holds manifest\.json/);
    const whole = zipOf(packEntries(pack()));
    const cut = path.join(tmp, 'cut.zip');
    writeFileSync(cut, (await import('node:fs')).readFileSync(whole).subarray(0, statSync(whole).size >> 1));
    await refused(cut, /^cut\.zip is not a readable \.zip \(End of central directory record signature not found.*\); copy it again$/);
    const text = path.join(tmp, 'notes.zip');
    writeFileSync(text, 'just some notes, not a zip\n');
    await refused(text, /^notes\.zip is not a readable \.zip/);
    const p = pack();
    await refused(zipOf(packEntries(p).filter((e) => !String(e.name).endsWith('manifest.json'))), /no manifest\.json in the chosen pack/);
  });

  it('refuses a 10 MB pack name and an over-long one in one short line (HEAD: ENAMETOOLONG)', async () => {
    const huge = pack();
    huge.manifest.name = 'n'.repeat(10 * 1024 * 1024);
    await refused(zipOf(packEntries(huge)), /^case-\d+\.zip: manifest\.json is larger than 1048576 bytes; refused$/);
    await refused(folderOf(huge), /^model pack "folder-\d+": manifest\.json is larger than 1 MiB; not a model pack manifest$/);
    const long = pack();
    long.manifest.name = 'n'.repeat(300);
    await refused(zipOf(packEntries(long)), /^case-\d+\.zip: model pack "n{77}…": manifest\.json does not follow pack contract 1 \(name: a pack name is at most 100 characters/);
    const slashy = pack();
    slashy.manifest.version = '../../../outside';
    await refused(zipOf(packEntries(slashy)), /version: a pack version holds letters, digits and \. _ \+ - only/);
  });

  it('refuses a tampered file by name, a graph whose external data leaves the pack, and a zip without declared sizes', async () => {
    const tampered = pack();
    const dec = Buffer.from(tampered.files.get('decoder.onnx')!);
    dec[dec.length >> 1]! ^= 1;
    tampered.files.set('decoder.onnx', dec);
    await refused(zipOf(packEntries(tampered)), /model pack "vantage-test-pack": file decoder\.onnx does not match its sha256 in manifest\.json .*tampered with$/, 'decoder.onnx');

    for (const location of ['../../../../etc/passwd', '/etc/passwd', 'not-listed.bin']) {
      const escaping = pack();
      putFile(escaping, 'pixel.onnx', model(graph([tensor('w', { location })])));
      await refused(zipOf(packEntries(escaping)), /^model pack "vantage-test-pack": pixel\.onnx refers to external data ".*" that is not a file listed in manifest\.json; refused$/, 'pixel.onnx');
    }

    const unsized = pack();
    delete unsized.manifest.sizes;
    await refused(zipOf(packEntries(unsized)), /: manifest\.json declares no size for vision\.onnx; a \.zip installs only with every file's size in "sizes" \(re-export the pack, or unzip it and install the folder\)$/);
    // the same pack as a folder installs: the file system says the sizes
    const dataDir = fresh();
    expect((await new PackStore(dataDir).install(folderOf(unsized), { allowUnsigned: true })).stages).toHaveLength(6);
    expectClean(dataDir, [`vantage-test-pack-${unsized.manifest.version}`]);
  });

  it('installs a zip holding junk beside the pack (macOS metadata, a README, unsafe names are refused but unlisted files ignored) with only the listed files', async () => {
    const p = pack();
    const zip = zipOf([
      fileEntry('__MACOSX/pack/._manifest.json', Buffer.from('junk')),
      ...packEntries(p),
      fileEntry('pack/README.txt', Buffer.alloc(1 << 20, 0x41)),
      fileEntry('pack/extra/', Buffer.alloc(0), { unixMode: 0o040755 }),
    ]);
    const dataDir = fresh();
    const installed = await new PackStore(dataDir).install(zip, { allowUnsigned: true });
    const dir = path.join(dataDir, 'packs', `vantage-test-pack-${p.manifest.version}`);
    expect(installed.dir).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', ...p.files.keys()].sort());
    expectClean(dataDir, [path.basename(dir)]);
  });
});

describe('folder installs read the manifest first and copy only what it names', () => {
  it('refuses a pack folder whose tokenizer is a symlink to /etc/passwd, and one holding a FIFO', async () => {
    const p = pack();
    const dir = folderOf(p);
    rmSync(path.join(dir, 'tokenizer.json'));
    symlinkSync('/etc/passwd', path.join(dir, 'tokenizer.json'));
    await refused(dir, /^folder-\d+: tokenizer\.json is a symbolic link; a pack must hold its files, refused$/);
    const fifoDir = folderOf(pack());
    rmSync(path.join(fifoDir, 'tokenizer.json'));
    spawnSync('mkfifo', [path.join(fifoDir, 'tokenizer.json')]);
    await refused(fifoDir, /: tokenizer\.json is not a regular file; refused$/);
    const linkedManifest = folderOf(pack());
    rmSync(path.join(linkedManifest, 'manifest.json'));
    symlinkSync(path.join(dir, 'manifest.json'), path.join(linkedManifest, 'manifest.json'));
    await refused(linkedManifest, /no manifest\.json in the chosen pack/);
  });

  it('a "home folder" with 200 MB of unrelated files: without a manifest nothing is copied; with one only the pack files are', async () => {
    const home = path.join(tmp, 'home');
    mkdirSync(path.join(home, 'Videos'), { recursive: true });
    writeFileSync(path.join(home, 'Videos', 'holiday.mkv'), Buffer.alloc(150 << 20, 1));
    writeFileSync(path.join(home, 'big.iso'), Buffer.alloc(50 << 20, 2));
    let dataDir = fresh();
    mkdirSync(dataDir);
    let r = await installInChild(child, dataDir, home);
    if (r.writtenBytes !== null) expect(r.writtenBytes).toBeLessThan(64 * 1024); // HEAD: copied all 200 MB first
    expect(r).toMatchObject({ ok: false, code: 'BAD_INPUT', error: expect.stringMatching(/^home: no manifest\.json in the chosen pack/) });
    expectClean(dataDir);

    const p = pack();
    writeFileSync(path.join(home, 'manifest.json'), manifestBytes(p));
    for (const [f, b] of p.files) writeFileSync(path.join(home, f), b);
    dataDir = fresh();
    r = await installInChild(child, dataDir, home);
    expect(r).toMatchObject({ ok: true, name: 'vantage-test-pack' });
    const packBytes = [...p.files.values()].reduce((a, b) => a + b.length, manifestBytes(p).length);
    if (r.writtenBytes !== null) expect(r.writtenBytes).toBeLessThan(packBytes + 64 * 1024);
    const dir = path.join(dataDir, 'packs', `vantage-test-pack-${p.manifest.version}`);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', ...p.files.keys()].sort());
    expectClean(dataDir, [path.basename(dir)]);
  }, 60_000);
});

describe('staging', () => {
  it('removes .staging-* of installs whose process is gone, keeps those of live ones', async () => {
    const dataDir = fresh();
    const store = new PackStore(dataDir);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = path.join(store.root, `.staging-${dead}-1700000000000-abcd`);
    const live = path.join(store.root, `.staging-${process.ppid}-1700000000000-beef`);
    for (const d of [stale, live]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'decoder.onnx'), 'half a file');
    }
    expect(await store.removeStaleStaging()).toBe(1);
    expect(readdirSync(store.root)).toEqual([path.basename(live)]);
  });
});

describe('a large pack zip installs in bounded memory', () => {
  it('a 300 MB zip (one stored 300 MB file beside the deflated test pack): peak RSS of the install < 250 MB over its baseline', async () => {
    const p = pack();
    const { entry, sha256 } = bigStoredEntry('pack/decoder.onnx.data', 300 << 20);
    p.manifest.files['decoder.onnx.data'] = sha256;
    p.manifest.sizes!['decoder.onnx.data'] = 300 << 20;
    const zip = zipOf([...packEntries(p), entry]);
    const dataDir = fresh();
    const r = await installInChild(child, dataDir, zip);
    expect(r).toMatchObject({ ok: true, name: 'vantage-test-pack' });
    const growthMB = (r.peakKiB - r.baseKiB) / 1024;
    console.log(`300 MB pack zip: ${r.ms} ms, peak RSS ${Math.round(r.peakKiB / 1024)} MB (baseline ${Math.round(r.baseKiB / 1024)} MB, +${growthMB.toFixed(1)} MB)`);
    expect(growthMB).toBeLessThan(250); // HEAD reads the whole zip and inflates it all in memory: > 600 MB
    expect(statSync(path.join(dataDir, 'packs', `vantage-test-pack-${p.manifest.version}`, 'decoder.onnx.data')).size).toBe(300 << 20);
    expectClean(dataDir, [`vantage-test-pack-${p.manifest.version}`]);
    rmSync(zip);
  }, 90_000);
});
