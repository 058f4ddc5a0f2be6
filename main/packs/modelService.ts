import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelStatus, PackSignature } from '../contract/index.js';
import type { PackEntry } from '../contract/calls/models.js';
import { VantageError } from '../contract/errors.js';
import type { InferencePort } from '../inference/protocol.js';
import { packCapabilities } from '../inference/capabilities.js';
import { loadPack, toPackInfo, type LoadedPackInfo } from '../inference/packManifest.js';
import { checkPackSignature } from './packSignature.js';
import type { PackStore } from './packStore.js';
import type { SettingsRepository } from '../../db/settings.js';

const SELECTED_KEY = 'models.selected';

export interface ModelServiceOptions {
  /** the pack shipped with the app (the test pack) */
  builtinDir: string;
  /** installed packs; absent: only the built-in (or forced) pack exists */
  store?: PackStore;
  /** where the selection persists (`settings` table) */
  settings?: SettingsRepository;
  /** a pack folder forced for this run (CLI `--pack`, `serve --pack`): overrides the persisted selection */
  forcedDir?: string;
}

/**
 * Which pack is loaded and how it runs, plus the pack manager (install, list, select, remove). Loading is
 * serialised: concurrent callers share one load; selecting another pack replaces the load.
 */
export class ModelService {
  private loading: Promise<void> | null = null;
  private loadedDir: string | null = null;
  private loadedSignature: PackSignature | null = null;
  /** a refusal before the worker saw the pack (its signature does not verify): shown as the load error */
  private refused: string | null = null;

  constructor(private readonly host: InferencePort, private readonly opts: ModelServiceOptions) {}

  /** Starts loading in the background (app start-up) without failing the caller. */
  warmUp(): void {
    this.ensureReady().catch(() => {});
  }

  /** The pack folder the app uses now: forced, else the persisted selection when still installed, else built-in. */
  currentDir(): string {
    if (this.opts.forcedDir) return this.opts.forcedDir;
    const sel = this.selected();
    if (sel && this.opts.store) return this.opts.store.dirFor(sel.name, sel.version);
    return this.opts.builtinDir;
  }

  private selected(): { name: string; version: string } | null {
    const raw = this.opts.settings?.get(SELECTED_KEY);
    if (!raw) return null;
    try {
      const v = JSON.parse(raw) as { name?: unknown; version?: unknown };
      return typeof v.name === 'string' && typeof v.version === 'string' ? { name: v.name, version: v.version } : null;
    } catch {
      return null;
    }
  }

  private isBuiltin(dir: string): boolean {
    return path.resolve(dir) === path.resolve(this.opts.builtinDir);
  }

  ensureReady(): Promise<void> {
    if (!this.loading) {
      const dir = this.currentDir();
      // a manifest.sig that does not verify refuses the load (the manifest changed after signing); unsigned packs load
      const load = async () => {
        this.refused = null;
        const signature = await this.signatureOf(dir).catch((err: unknown) => {
          this.refused = VantageError.from(err).message;
          throw err;
        });
        await this.host.loadPack(dir);
        this.loadedDir = dir;
        this.loadedSignature = signature;
      };
      this.loading = load().catch((err: unknown) => {
        this.loading = null;
        throw VantageError.from(err);
      });
    }
    return this.loading;
  }

  status(): ModelStatus {
    const s = this.host.status();
    if (this.refused && s.state !== 'loading') return { ...s, state: 'error', pack: null, error: this.refused };
    if (!s.pack) return s;
    const signature = this.loadedSignature ? { signature: this.loadedSignature } : {};
    return { ...s, pack: { ...s.pack, builtin: this.loadedDir !== null && this.isBuiltin(this.loadedDir), ...signature } };
  }

  /** manifest.sig of the pack in `dir` against the user's trusted keys (none without a store: signed packs are untrusted) */
  private signatureOf(dir: string, label?: string): Promise<PackSignature> {
    return checkPackSignature(dir, this.opts.store?.trust ?? null, label);
  }

  private async entry(p: LoadedPackInfo, builtin: boolean): Promise<PackEntry> {
    const current = path.resolve(this.currentDir());
    const can = packCapabilities(p);
    return {
      ...toPackInfo(p),
      builtin,
      selected: path.resolve(p.dir) === current,
      tasks: can.modes,
      instantMasks: can.masks,
      signature: await this.signatureOf(p.dir, p.name),
    };
  }

  async list(): Promise<PackEntry[]> {
    const out: PackEntry[] = [];
    const builtin = await loadPack(this.opts.builtinDir, { builtin: true, verify: false }).catch(() => null);
    const found: [LoadedPackInfo, boolean][] = builtin ? [[builtin, true]] : [];
    if (this.opts.forcedDir && !this.isBuiltin(this.opts.forcedDir)) {
      const forced = await loadPack(this.opts.forcedDir, { verify: false }).catch(() => null);
      if (forced) found.push([forced, false]);
    }
    for (const p of (await this.opts.store?.list()) ?? []) found.push([p, false]);
    for (const [p, isBuiltin] of found) {
      // a pack whose manifest.sig no longer verifies is left out like a damaged one (loading it names the problem)
      const e = await this.entry(p, isBuiltin).catch(() => null);
      if (e) out.push(e);
    }
    return out;
  }

  private requireStore(): PackStore {
    if (!this.opts.store) throw new VantageError('UNSUPPORTED', 'this run has no pack store (a pack folder was given on the command line)');
    return this.opts.store;
  }

  /**
   * Side-loads a pack from a folder or .zip; refused (naming the file) when any sha256 does not match or its
   * signature does not verify, and — unless `allowUnsigned` confirms it — when it is unsigned or its key is not trusted.
   */
  async install(source: string, opts: { allowUnsigned?: boolean } = {}): Promise<PackEntry> {
    const p = await this.requireStore().install(source, opts);
    return this.entry(p, false);
  }

  /** Persists the choice (the next start loads it too) and loads that pack now. */
  async select(name: string, version: string): Promise<ModelStatus> {
    if (this.opts.forcedDir) throw new VantageError('CONFLICT', 'a pack folder was forced for this run (--pack); restart without it to choose packs');
    const packs = await this.list();
    const target = packs.find((p) => p.name === name && p.version === version);
    if (!target) throw new VantageError('NOT_FOUND', `model pack ${name} ${version} is not installed; install it first`);
    const previous = this.opts.settings?.get(SELECTED_KEY) ?? null;
    if (target.builtin) this.opts.settings?.delete(SELECTED_KEY);
    else this.opts.settings?.set(SELECTED_KEY, JSON.stringify({ name, version }));
    try {
      await this.reload();
    } catch (err) {
      // a pack that fails to load (tampered after install, bad shapes) must not become the start-up choice
      if (previous === null) this.opts.settings?.delete(SELECTED_KEY);
      else this.opts.settings?.set(SELECTED_KEY, previous);
      await this.reload().catch(() => {});
      throw err;
    }
    return this.status();
  }

  private async reload(): Promise<void> {
    if (this.loading) await this.loading.catch(() => {});
    this.loading = null;
    await this.ensureReady();
  }

  /**
   * Re-hashes every file of the pack against its manifest (the installed copy when there is one, else the forced or
   * built-in folder); throws naming the first file that does not match. `verifiedFiles`: how many files were hashed.
   */
  async verify(name: string, version: string): Promise<PackEntry & { verifiedFiles: number }> {
    const store = this.opts.store;
    const same = (p: LoadedPackInfo | null): p is LoadedPackInfo => p !== null && p.name === name && p.version === version;
    let p: LoadedPackInfo | null = null;
    let builtin = false;
    // a damaged installed pack (even its manifest) is still verified: the error names what is wrong with it
    if (store && existsSync(store.dirFor(name, version))) {
      p = await store.verify(name, version);
    } else if (this.opts.forcedDir && !this.isBuiltin(this.opts.forcedDir) && same(await loadPack(this.opts.forcedDir, { verify: false }).catch(() => null))) {
      p = await loadPack(this.opts.forcedDir);
    } else if (same(await loadPack(this.opts.builtinDir, { verify: false }).catch(() => null))) {
      p = await loadPack(this.opts.builtinDir, { builtin: true });
      builtin = true;
    }
    if (!p) throw new VantageError('NOT_FOUND', `model pack ${name} ${version} is not installed`);
    const files = new Set([...Object.values(p.stageFiles).map((f) => path.basename(f)), ...Object.keys(p.manifest.files)]);
    return { ...(await this.entry(p, builtin)), verifiedFiles: files.size };
  }

  async remove(name: string, version: string): Promise<void> {
    const store = this.requireStore();
    const builtin = await loadPack(this.opts.builtinDir, { verify: false }).catch(() => null);
    if (builtin && builtin.name === name && builtin.version === version && !(await store.list()).some((p) => p.name === name && p.version === version)) {
      throw new VantageError('BAD_INPUT', 'the built-in pack cannot be removed');
    }
    const sel = this.selected();
    const wasSelected = sel?.name === name && sel.version === version;
    if (wasSelected && this.loadedDir && !this.isBuiltin(this.loadedDir)) {
      // release the pack's sessions before its files go: fall back to the built-in pack
      this.opts.settings?.delete(SELECTED_KEY);
      await this.reload().catch(() => {});
    } else if (wasSelected) {
      this.opts.settings?.delete(SELECTED_KEY);
    }
    await store.remove(name, version);
  }
}
