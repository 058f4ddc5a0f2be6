import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VantageError } from '../contract/errors.js';
import { loadPack, manifestFiles, parseManifest, shaMismatch, type LoadedPackInfo, type PackFile } from '../inference/packManifest.js';
import { processAlive } from '../util/processAlive.js';
import { joinUnder } from '../util/safePath.js';
import { checkSignatureBytes, MAX_SIGNATURE_BYTES, requireTrustOrConfirmation, SIGNATURE_FILE, TrustedKeys } from './packSignature.js';
import { MAX_PACK_BYTES, MAX_PACK_FILE_BYTES, oneLine, openPackSource, type PackSource } from './packSources.js';

/** `<packs>/.staging-<pid>-<time>-<random>`: an install in progress (or killed: removed at the next start) */
const STAGING = /^\.staging-(\d+)-/;

/**
 * Installed model packs under `<dataDir>/packs/<name>-<version>/`. Installing is offline only: from a folder or a
 * .zip, manifest.json is read first and only the files it names are copied (streamed, each stopped the moment it
 * passes its declared size, the free disk or a fixed maximum, hashed as it is copied) into a staging folder next
 * to the store; the staged pack is verified and only then renamed into place, so a tampered, oversized or
 * half-copied pack never appears in the list. PACK_CONTRACT.md "Installing packs" says what is refused.
 */
export class PackStore {
  readonly root: string;
  /** the keys the user trusts for pack signatures (`<dataDir>/trusted-keys/`) */
  readonly trust: TrustedKeys;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'packs');
    this.trust = new TrustedKeys(dataDir);
  }

  /** The folder of an installed pack; refuses names that could not be one (too long, separators: see joinUnder). */
  dirFor(name: string, version: string): string {
    const safe = `${name}-${version}`.replace(/[^A-Za-z0-9._-]/g, '_');
    return joinUnder(this.root, safe, 'model pack name');
  }

  /** `allowUnsigned`: the user confirmed installing a pack that is unsigned or signed by a key they do not trust */
  async install(source: string, opts: { allowUnsigned?: boolean } = {}): Promise<LoadedPackInfo> {
    await mkdir(this.root, { recursive: true });
    const src = await openPackSource(source); // reads manifest.json and (for a .zip) the central directory only
    const staging = path.join(this.root, `.staging-${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}`);
    try {
      const manifest = inSource(src, () => parseManifest(src.manifestRaw, src.label));
      const files = inSource(src, () => manifestFiles(manifest));
      const target = this.dirFor(manifest.name, manifest.version);
      if (await exists(target)) throw alreadyInstalled(manifest.name, manifest.version);
      // manifest.sig over manifest.json's bytes, before anything is copied: a changed manifest is refused; an
      // unsigned or untrusted pack needs the user's yes. The signature travels with the pack (checked at every load).
      const sig = await src.readSmallFile(SIGNATURE_FILE, MAX_SIGNATURE_BYTES);
      requireTrustOrConfirmation(manifest.name, await checkSignatureBytes(src.manifestRaw, sig, this.trust, manifest.name), opts.allowUnsigned === true);
      await mkdir(staging);
      const hashed = await copyFiles(src, manifest.name, files, staging, await freeBytes(this.root));
      await writeFile(path.join(staging, 'manifest.json'), src.manifestRaw, { flag: 'wx' });
      if (sig) await writeFile(path.join(staging, SIGNATURE_FILE), sig, { flag: 'wx' });

      // verify: the staged copy against its manifest (sizes, the sha256s taken while copying, ONNX external data)
      await loadPack(staging, { hashed });

      if (await exists(target)) throw alreadyInstalled(manifest.name, manifest.version);
      await rename(staging, target);
      return await loadPack(target, { verify: false });
    } catch (err) {
      if (err instanceof VantageError) throw err;
      throw new VantageError('BAD_INPUT', `${src.label}: the pack could not be installed (${oneLine(err)})`);
    } finally {
      await src.close();
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * Removes `.staging-*` folders left by installs whose process is gone (killed mid-copy); an install running in
   * another live process keeps its own. Returns how many were removed. Run at start-up.
   */
  async removeStaleStaging(): Promise<number> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    let removed = 0;
    for (const n of names) {
      const pid = Number(STAGING.exec(n)?.[1] ?? NaN);
      if (!Number.isSafeInteger(pid) || pid === process.pid || processAlive(pid)) continue;
      await rm(path.join(this.root, n), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /** Installed packs, read without hashing (hashes are checked on install and on every load). Broken ones are skipped. */
  async list(): Promise<LoadedPackInfo[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const out: LoadedPackInfo[] = [];
    for (const n of names.sort()) {
      if (n.startsWith('.')) continue;
      try {
        out.push(await loadPack(path.join(this.root, n), { verify: false }));
      } catch {
        // a pack folder damaged after install: left out of the list (loading it names the problem)
      }
    }
    return out;
  }

  /** Re-hashes every file of an installed pack against its manifest (as a load does); throws naming the first mismatch. */
  async verify(name: string, version: string): Promise<LoadedPackInfo> {
    const dir = this.dirFor(name, version);
    if (!(await exists(dir))) throw new VantageError('NOT_FOUND', `model pack ${name} ${version} is not installed`);
    return loadPack(dir);
  }

  async remove(name: string, version: string): Promise<void> {
    const dir = this.dirFor(name, version);
    if (!(await exists(dir))) throw new VantageError('NOT_FOUND', `model pack ${name} ${version} is not installed`);
    await rm(dir, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** a manifest refusal during an install also names the folder or .zip it came from */
function inSource<T>(src: PackSource, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (!(err instanceof VantageError) || err.message.includes(src.label)) throw err;
    throw new VantageError(err.code, `${src.label}: ${err.message}`, err.issues);
  }
}

function alreadyInstalled(name: string, version: string): VantageError {
  return new VantageError('CONFLICT', `model pack ${name} ${version} is already installed; remove it first to reinstall`);
}

async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

/**
 * Copies every file the manifest names into `staging`, each capped at the smallest of its declared size, the disk
 * space still free and MAX_PACK_FILE_BYTES; returns the sha256 of each, refusing the first that does not match.
 */
async function copyFiles(src: PackSource, pack: string, files: Map<string, PackFile>, staging: string, free: number): Promise<Map<string, string>> {
  const declaredTotal = [...files.values()].reduce((a, f) => a + (f.size ?? 0), 0);
  if (declaredTotal > Math.min(free, MAX_PACK_BYTES)) {
    throw new VantageError(
      'BAD_INPUT',
      `${src.label}: the pack needs ${gb(declaredTotal)} but ${declaredTotal > MAX_PACK_BYTES ? `a pack may have at most ${gb(MAX_PACK_BYTES)}` : `only ${gb(free)} are free on the disk`}; refused`,
    );
  }
  const hashed = new Map<string, string>();
  let written = 0;
  for (const [file, want] of files) {
    const cap = Math.min(want.size ?? Infinity, MAX_PACK_FILE_BYTES, free - written, MAX_PACK_BYTES - written);
    const out = joinUnder(staging, file, 'pack file');
    const got = await src.copyFile(file, want.size, Math.max(0, cap), out);
    written += got.bytes;
    if (want.size !== undefined && got.bytes !== want.size) {
      throw new VantageError('BAD_INPUT', `${src.label}: ${file} is ${got.bytes} bytes but manifest.json declares ${want.size}; the pack is incomplete or tampered with`);
    }
    if (got.sha256 !== want.sha256) throw shaMismatch(pack, file, want.sha256, got.sha256);
    hashed.set(file, got.sha256);
  }
  return hashed;
}

const gb = (n: number) => `${(n / 1e9).toFixed(n < 1e9 ? 3 : 1)} GB`;
