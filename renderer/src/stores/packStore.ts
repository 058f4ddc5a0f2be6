import type { PackEntry } from '../../../main/contract/calls/models.js';
import type { FileRef, FolderListing } from '../../../main/contract/schemas.js';
import { TASK_MODES, type TaskMode } from '../../../main/contract/taskModes.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { modelStore, refreshModelStatus } from './modelStore.js';

/** The model pack manager: installed packs, install (with the confirmation unsigned packs need), select, remove. */
export interface PackState {
  packs: PackEntry[];
  busy: string | null;
  error: string | null;
  /** an install the backend refused until the user confirms it (the pack is unsigned or its key is not trusted) */
  confirm: { file: string; status: 'unsigned' | 'untrusted'; message: string } | null;
  /** the in-app browser for a pack folder or .zip (browser mode has no native dialog) */
  browsing: FolderListing | null;
  browseError: string | null;
}

export const packStore = createStore<PackState>({ packs: [], busy: null, error: null, confirm: null, browsing: null, browseError: null });

/** The task modes the loaded pack can run (all modes until the list has arrived, so the composer is never empty). */
export function availableModes(packs: PackEntry[]): TaskMode[] {
  const sel = packs.find((p) => p.selected);
  return sel ? sel.tasks : [...TASK_MODES];
}

export async function loadPacks(): Promise<void> {
  try {
    packStore.set({ packs: await client().call('models.list', {}), error: null });
  } catch (e) {
    packStore.set({ error: `cannot list model packs: ${errorText(e)}` });
  }
}

async function packAction(label: string, run: () => Promise<unknown>): Promise<void> {
  packStore.set({ busy: label, error: null });
  try {
    await run();
  } catch (e) {
    packStore.set({ error: `${label} failed: ${errorText(e)}` });
  } finally {
    packStore.set({ busy: null });
    await loadPacks();
    await refreshModelStatus();
  }
}

/** The refusal `models.install` gives an unsigned or untrusted pack (issues [{path: 'allowUnsigned'}]), or null. */
function confirmationNeeded(e: unknown): { status: 'unsigned' | 'untrusted'; message: string } | null {
  const err = e as { message?: string; issues?: { path: string; message: string }[] } | null;
  const issue = err?.issues?.find((i) => i.path === 'allowUnsigned');
  if (!issue || typeof err?.message !== 'string') return null;
  // the backend's line ends with how to confirm (CLI flag or this panel): the dialog itself is the how
  return { status: issue.message === 'untrusted' ? 'untrusted' : 'unsigned', message: `${err.message.replace(/: pass --allow-unsigned.*$/, '')}.` };
}

/** Installs; an unsigned or untrusted pack opens the confirmation instead, and installs only with `allowUnsigned`. */
export const installPack = (file: string, allowUnsigned = false) =>
  packAction('installing the pack', async () => {
    packStore.set({ confirm: null });
    try {
      await client().call('models.install', { file, allowUnsigned });
    } catch (e) {
      const ask = confirmationNeeded(e);
      if (!ask) throw e;
      packStore.set({ confirm: { file, ...ask } });
    }
  });
export const cancelInstall = () => packStore.set({ confirm: null });

export async function browsePacks(where: { folder?: FileRef }): Promise<void> {
  try {
    packStore.set({ browsing: await client().call('files.browse', { purpose: 'pack', ...where }), browseError: null });
  } catch (e) {
    packStore.set({ browseError: errorText(e) });
  }
}

/** "Install pack…": the native dialog where one exists, the in-app browser otherwise. */
export async function chooseAndInstallPack(): Promise<void> {
  if (!modelStore.get().app?.nativeDialogs) return browsePacks({});
  try {
    const { ref } = await client().call('files.pick', { purpose: 'pack' });
    if (ref) await installPack(ref);
  } catch (e) {
    packStore.set({ browseError: errorText(e) });
  }
}

/** A pack (folder or .zip) chosen in the in-app browser. */
export async function installBrowsedPack(ref: FileRef): Promise<void> {
  closePackBrowser();
  await installPack(ref);
}

export const closePackBrowser = () => packStore.set({ browsing: null });

/** The mark a pack carries in the panel: who signed it, or that nobody the user trusts did. */
export function signatureMark(p: PackEntry): string {
  if (p.signature.status === 'trusted') return `signed by ${p.signature.signer ?? p.signature.fingerprint}`;
  if (p.signature.status === 'untrusted') return `signed by an untrusted key ${p.signature.fingerprint}`;
  return 'unsigned';
}
export const selectPack = (name: string, version: string) =>
  packAction(`loading ${name} ${version}`, async () => {
    modelStore.set({ model: await client().call('models.select', { name, version }) });
  });
export const removePack = (name: string, version: string) => packAction(`removing ${name} ${version}`, () => client().call('models.remove', { name, version }));
