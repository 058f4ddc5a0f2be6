import type { ModelStatus } from '../../../main/contract/schemas.js';
import type { OutputOf } from '../../../main/contract/procedures.js';
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

/** One line per stage: the provider it runs on, and why better ones were not used (for the status bar tooltip). */
/**
 * Why the GPU is not used, in the analyst's words: the provider's own reason (library file names, build details) stays
 * in the tooltip (providerReport); the status bar shows this phrase.
 */
export function gpuSummary(reason: string | null | undefined): string {
  if (!reason) return 'not used';
  if (/not selected/i.test(reason)) return 'off (another provider chosen)';
  if (/not installed|not found/i.test(reason)) return 'GPU support not installed';
  if (/build has no/i.test(reason)) return 'not in this build';
  if (/no GPU adapter|no (cuda )?device|driver/i.test(reason)) return 'no GPU found';
  return 'not used';
}

export function providerReport(model: ModelStatus | null): string {
  if (!model) return '';
  const stages = Object.entries(model.stageProviders).map(([s, p]) => `${s}: ${p}`);
  const skipped = model.providers.filter((p) => !p.available && p.reason).map((p) => `${p.name} not used: ${p.reason}`);
  return [...stages, ...(model.decode ? [`decode: ${model.decode}`] : []), ...skipped].join('\n');
}
