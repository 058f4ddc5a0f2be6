import type { FileRef, FolderListing } from '../../../main/contract/schemas.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { mapStore, openImageFile } from './mapStore.js';
import { modelStore } from './modelStore.js';

export interface FileBrowserState {
  open: boolean;
  listing: FolderListing | null;
  loading: boolean;
  error: string | null;
}

export const fileBrowserStore = createStore<FileBrowserState>({ open: false, listing: null, loading: false, error: null });

/** The toolbar's "open image": the native dialog where one exists, the in-app browser otherwise. */
export async function chooseImage(): Promise<void> {
  if (modelStore.get().app?.nativeDialogs) {
    try {
      const { ref } = await client().call('files.pick', { purpose: 'image' });
      if (ref) await openImageFile(ref);
    } catch (e) {
      mapStore.set({ error: `could not show the file dialog: ${errorText(e)}` });
    }
    return;
  }
  fileBrowserStore.set({ open: true, error: null });
  await browse({ folder: fileBrowserStore.get().listing?.folder.ref });
}

export async function browse(where: { folder?: FileRef | undefined; typedPath?: string }): Promise<void> {
  fileBrowserStore.set({ loading: true, error: null });
  try {
    const input = {
      purpose: 'image' as const,
      ...(where.folder ? { folder: where.folder } : {}),
      ...(where.typedPath ? { typedPath: where.typedPath } : {}),
    };
    fileBrowserStore.set({ listing: await client().call('files.browse', input) });
  } catch (e) {
    fileBrowserStore.set({ error: errorText(e) });
  } finally {
    fileBrowserStore.set({ loading: false });
  }
}

export async function chooseFile(ref: FileRef): Promise<void> {
  fileBrowserStore.set({ open: false });
  await openImageFile(ref);
}

export function closeFileBrowser(): void {
  fileBrowserStore.set({ open: false, error: null });
}
