import { fileRefOf } from '../transport/droppedFile.js';
import { setBasemapFile } from './basemapStore.js';
import { errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { openImageFile } from './mapStore.js';

/**
 * Opening a file by dropping it on the map: an image opens into the case, an .mbtiles file becomes the basemap.
 * In a browser the dropped image is uploaded first (transport/droppedFile.ts) and the user is told so.
 */
export interface DropState {
  busy: string | null;
  notice: string | null;
  error: string | null;
}

export const dropStore = createStore<DropState>({ busy: null, notice: null, error: null });

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
