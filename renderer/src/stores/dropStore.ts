import { LOOPBACK } from '../../../main/contract/bridge.js';
import type { FileRef } from '../../../main/contract/schemas.js';
import { errorText } from './clientRef.js';
import { setBasemapFile } from './basemapStore.js';
import { createStore } from './createStore.js';
import { openImageFile } from './mapStore.js';

/**
 * Opening an image by dropping it on the map. In Electron the preload turns the dropped file into a reference
 * (its path never reaches the page). In a browser the page cannot know the path, so the bytes are uploaded into
 * the imports folder of the data directory and that copy is opened — the user is told so.
 */
export interface DropState {
  busy: string | null;
  notice: string | null;
  error: string | null;
}

export const dropStore = createStore<DropState>({ busy: null, notice: null, error: null });

async function uploadedRef(file: File): Promise<FileRef> {
  const res = await fetch(`${LOOPBACK.uploadPath}?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    body: file, // streamed from disk by the browser, never read into the page
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  const body = (await res.json().catch(() => null)) as { ok: boolean; result?: { ref: string }; error?: { message: string } } | null;
  if (!body?.ok || !body.result) throw new Error(body?.error?.message ?? `upload failed (HTTP ${res.status})`);
  return body.result.ref;
}

/** A reference for a file the user dropped or chose in an <input type=file>; copied says it was uploaded. */
export async function fileRefOf(file: File): Promise<{ ref: FileRef; copied: boolean }> {
  const bridge = window.vantageBridge;
  if (bridge?.droppedFileRef) {
    const r = await bridge.droppedFileRef(file);
    if (!r.ok) throw new Error(r.error.message);
    return { ref: r.result.ref, copied: false };
  }
  return { ref: await uploadedRef(file), copied: true };
}

export async function openDroppedFile(file: File): Promise<void> {
  if (/\.mbtiles$/i.test(file.name)) {
    // an MBTiles file dropped on the map becomes the basemap
    return setBasemapFile(file);
  }
  dropStore.set({ busy: file.name, notice: null, error: null });
  try {
    const { ref, copied } = await fileRefOf(file);
    await openImageFile(ref);
    dropStore.set({ notice: copied ? `${file.name} was copied into the case's imports folder (the browser cannot open it in place)` : null });
  } catch (e) {
    dropStore.set({ error: `could not open the dropped file ${file.name}: ${errorText(e)}` });
  } finally {
    dropStore.set({ busy: null });
  }
}
