import type { ModelStatus } from '../../../main/contract/schemas.js';
import type { OutputOf } from '../../../main/contract/procedures.js';
import type { PackEntry } from '../../../main/contract/calls/models.js';
import { TASK_MODES, type TaskMode } from '../../../main/contract/taskModes.js';
import { emitAppEvent, setBodyState } from '../appEvents.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';

export interface ModelState {
  app: OutputOf<'app.status'> | null;
  model: ModelStatus | null;
  error: string | null;
}

export const modelStore = createStore<ModelState>({ app: null, model: null, error: null });

let pollTimer: ReturnType<typeof setTimeout> | null = null;
let announcedReady = false;

export async function loadAppStatus(): Promise<void> {
  try {
    modelStore.set({ app: await client().call('app.status', {}) });
  } catch (e) {
    modelStore.set({ error: `cannot read the app status: ${errorText(e)}` });
  }
}

/** Polls while a pack is loading (or none is loaded yet, since the backend may load one at start); stops once settled. */
export async function refreshModelStatus(): Promise<void> {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
  let next = 3000;
  try {
    const model = await client().call('models.status', {});
    modelStore.set({ model, error: null });
    setBodyState('modelState', model.state);
    if (model.state === 'ready' && !announcedReady) {
      announcedReady = true;
      emitAppEvent('model-ready');
    }
    if (model.state === 'ready' || model.state === 'error') return;
    if (model.state === 'loading') next = 1000;
  } catch (e) {
    modelStore.set({ error: `cannot read the model status: ${errorText(e)}` });
    next = 5000;
  }
  pollTimer = setTimeout(() => void refreshModelStatus(), next);
}

export function providerInUse(model: ModelStatus | null): string | null {
  if (!model) return null;
  const sp = model.stageProviders;
  return sp['decoder'] ?? Object.values(sp)[0] ?? null;
}

// ------------------------------------------------------------------------------------------- pack manager
export interface PackState {
  packs: PackEntry[];
  busy: string | null;
  error: string | null;
  /** an install the backend refused until the user confirms it (the pack is unsigned or its key is not trusted) */
  confirm: { file: string; status: 'unsigned' | 'untrusted'; message: string } | null;
}

export const packStore = createStore<PackState>({ packs: [], busy: null, error: null, confirm: null });

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

/** One line per stage: the provider it runs on, and why better ones were not used (for the status bar tooltip). */
export function providerReport(model: ModelStatus | null): string {
  if (!model) return '';
  const stages = Object.entries(model.stageProviders).map(([s, p]) => `${s}: ${p}`);
  const skipped = model.providers.filter((p) => !p.available && p.reason).map((p) => `${p.name} not used: ${p.reason}`);
  return [...stages, ...(model.decode ? [`decode: ${model.decode}`] : []), ...skipped].join('\n');
}
