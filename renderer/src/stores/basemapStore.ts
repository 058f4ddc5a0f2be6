import type { BasemapInfo } from '../../../main/contract/calls/imagery.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { fileRefOf } from './dropStore.js';

/** The offline basemap (a user-supplied MBTiles file) drawn under the imagery; none by default. */
export interface BasemapState {
  info: BasemapInfo | null;
  busy: boolean;
  error: string | null;
}

export const basemapStore = createStore<BasemapState>({ info: null, busy: false, error: null });

let loaded = false;
/** Reads the basemap the backend already has (after a page reload); once. */
export function loadBasemap(): void {
  if (loaded) return;
  loaded = true;
  client()
    .call('imagery.basemap', {})
    .then((r) => basemapStore.set({ info: r.basemap }))
    .catch((e: unknown) => basemapStore.set({ error: `could not read the basemap: ${errorText(e)}` }));
}

export async function setBasemapFile(file: File): Promise<void> {
  basemapStore.set({ busy: true, error: null });
  try {
    const { ref } = await fileRefOf(file);
    const r = await client().call('imagery.setBasemap', { file: ref });
    basemapStore.set({ info: r.basemap });
  } catch (e) {
    basemapStore.set({ error: `could not use ${file.name} as a basemap: ${errorText(e)}` });
  } finally {
    basemapStore.set({ busy: false });
  }
}

export async function clearBasemap(): Promise<void> {
  try {
    await client().call('imagery.setBasemap', { file: null });
    basemapStore.set({ info: null, error: null });
  } catch (e) {
    basemapStore.set({ error: `could not remove the basemap: ${errorText(e)}` });
  }
}
