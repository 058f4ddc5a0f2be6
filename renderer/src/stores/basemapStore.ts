import type { BasemapInfo } from '../../../main/contract/calls/imagery.js';
import type { FileRef } from '../../../main/contract/schemas.js';
import { fileRefOf } from '../transport/droppedFile.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { chooseFor } from './fileBrowserStore.js';

/** The offline basemap (a user-supplied MBTiles file) drawn under the imagery; remembered by the backend. */
export interface BasemapState {
  info: BasemapInfo | null;
  busy: boolean;
  error: string | null;
  /** the backend could not reopen the basemap chosen in an earlier run (its file is gone); shown until dismissed */
  notice: string | null;
}

export const basemapStore = createStore<BasemapState>({ info: null, busy: false, error: null, notice: null });

/** Reads the basemap the backend already has (after a page reload); once, at start-up. */
export function loadBasemap(): void {
  client()
    .call('imagery.basemap', {})
    .then((r) => basemapStore.set({ info: r.basemap, notice: r.notice }))
    .catch((e: unknown) => basemapStore.set({ error: `could not read the basemap: ${errorText(e)}` }));
}

/** Puts the MBTiles file `getRef` yields in force; `label` names it in an error. */
async function setBasemapRef(getRef: () => Promise<FileRef>, label: string): Promise<void> {
  basemapStore.set({ busy: true, error: null });
  try {
    const r = await client().call('imagery.setBasemap', { file: await getRef() });
    basemapStore.set({ info: r.basemap, notice: null });
  } catch (e) {
    basemapStore.set({ error: `could not use ${label} as a basemap: ${errorText(e)}` });
  } finally {
    basemapStore.set({ busy: false });
  }
}

/** A dropped .mbtiles (uploaded in a browser). */
export async function setBasemapFile(file: File): Promise<void> {
  await setBasemapRef(async () => (await fileRefOf(file)).ref, file.name);
}

/** "Basemap…": an .mbtiles file chosen in the native dialog or the backend file browser (which lists only those). */
export async function chooseBasemap(): Promise<void> {
  await chooseFor('basemap', 'Choose a basemap (.mbtiles)', (ref) => setBasemapRef(async () => ref, 'the chosen file'));
}

export function dismissBasemapNotice(): void {
  basemapStore.set({ notice: null });
}

export async function clearBasemap(): Promise<void> {
  try {
    await client().call('imagery.setBasemap', { file: null });
    basemapStore.set({ info: null, error: null });
  } catch (e) {
    basemapStore.set({ error: `could not remove the basemap: ${errorText(e)}` });
  }
}

/** Tiles of the basemap (the imagery.basemapTile resource); `name` keeps browser caches honest across basemaps. */
export function basemapTileUrl(name: string, coords: { z: number; x: number; y: number }): string {
  return client().resourceUrl('imagery.basemapTile', { z: coords.z, x: coords.x, y: coords.y, v: name });
}
