import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { VantageError } from '../contract/errors.js';
import { loadPack, type LoadedPackInfo } from '../inference/packManifest.js';

/** Refuse archives that would expand beyond this (a zip bomb on removable media must not fill the disk). */
const MAX_UNPACKED_BYTES = 64 * 1024 ** 3;

/**
 * Installed model packs under `<dataDir>/packs/<name>-<version>/`. Installing is offline only: a folder or a
 * .zip is staged next to the store, verified (manifest + every sha256) and only then renamed into place, so a
 * tampered or half-copied pack never appears in the list.
 */
export class PackStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'packs');
  }

  dirFor(name: string, version: string): string {
    const safe = `${name}-${version}`.replace(/[^A-Za-z0-9._-]/g, '_');
    return path.join(this.root, safe);
  }

  async install(source: string): Promise<LoadedPackInfo> {
    await mkdir(this.root, { recursive: true });
    const staging = path.join(this.root, `.staging-${process.pid}-${Date.now()}`);
    try {
      const st = await stat(source).catch(() => {
        throw new VantageError('NOT_FOUND', `no pack at ${source}; choose a pack folder or a .zip`);
      });
      if (st.isDirectory()) {
        await cp(source, staging, { recursive: true });
      } else if (source.toLowerCase().endsWith('.zip')) {
        await this.unzipTo(source, staging);
      } else {
        throw new VantageError('BAD_INPUT', `${path.basename(source)} is not a model pack; choose a pack folder or a .zip`);
      }
      const packDir = await findManifestDir(staging);
      const pack = await loadPack(packDir); // verifies every sha256: a tampered file is refused here, naming it
      const target = this.dirFor(pack.name, pack.version);
      if (await exists(target)) {
        throw new VantageError('CONFLICT', `model pack ${pack.name} ${pack.version} is already installed; remove it first to reinstall`);
      }
      await rename(packDir, target);
      return await loadPack(target, { verify: false });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private async unzipTo(zipFile: string, dir: string): Promise<void> {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(new Uint8Array(await readFile(zipFile)));
    } catch (err) {
      throw new VantageError('BAD_INPUT', `${path.basename(zipFile)} is not a readable .zip (${(err as Error).message}); copy it again`);
    }
    let total = 0;
    for (const [name, data] of Object.entries(entries)) {
      if (name.endsWith('/')) continue;
      total += data.byteLength;
      if (total > MAX_UNPACKED_BYTES) throw new VantageError('BAD_INPUT', `${path.basename(zipFile)} expands beyond 64 GiB; not a model pack`);
      const out = path.resolve(dir, name);
      // an entry like ../../x must never be written outside the staging folder
      if (!out.startsWith(path.resolve(dir) + path.sep)) throw new VantageError('BAD_INPUT', `${path.basename(zipFile)} holds an unsafe path "${name}"; refused`);
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, data);
    }
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

/** manifest.json at the root, or inside the one folder a zip of a folder holds */
async function findManifestDir(dir: string): Promise<string> {
  if (await exists(path.join(dir, 'manifest.json'))) return dir;
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.') && e.name !== '__MACOSX');
  if (entries.length === 1 && entries[0]!.isDirectory() && (await exists(path.join(dir, entries[0]!.name, 'manifest.json')))) {
    return path.join(dir, entries[0]!.name);
  }
  throw new VantageError('BAD_INPUT', 'no manifest.json in the chosen pack; choose the folder (or .zip) that holds manifest.json, tokenizer.json and the .onnx stages');
}
