import type { FileRef, FolderListing } from '../../../main/contract/schemas.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { setCaseError } from './caseStore.js';
import { modelStore } from './modelStore.js';

export interface FileBrowserState {
  open: boolean;
  listing: FolderListing | null;
  loading: boolean;
  error: string | null;
  /** the dialog's heading: what the file is chosen for ("Open image", "Relink …", "Export case to folder") */
  title: string | null;
  /** what is being chosen: image files, .vantage case files, .mbtiles basemaps, or a folder ("Choose this folder") */
  purpose: ChoosePurpose;
}

export type ChoosePurpose = 'image' | 'case' | 'folder' | 'basemap' | 'prompts';

export const fileBrowserStore = createStore<FileBrowserState>({ open: false, listing: null, loading: false, error: null, title: null, purpose: 'image' });

/** What happens to the file chosen in the in-app browser (open an image, relink a moved file, export/import a case…). */
let chosenHandler: ((ref: FileRef) => Promise<void>) | null = null;

/** Lets the user pick a file or folder for `onChosen` (native dialog where one exists, the in-app browser otherwise). */
export async function chooseFor(purpose: ChoosePurpose, title: string, onChosen: (ref: FileRef) => Promise<void>): Promise<void> {
  if (modelStore.get().app?.nativeDialogs) {
    try {
      const { ref } = await client().call('files.pick', { purpose });
      if (ref) await onChosen(ref);
    } catch (e) {
      setCaseError(`could not show the file dialog: ${errorText(e)}`);
    }
    return;
  }
  chosenHandler = onChosen;
  fileBrowserStore.set({ open: true, error: null, title, purpose });
  await browse({ folder: fileBrowserStore.get().listing?.folder.ref });
}

/** the latest browse: a slower earlier listing (the folder shown on opening) must not replace a typed path's */
let browseSeq = 0;

export async function browse(where: { folder?: FileRef | undefined; typedPath?: string }): Promise<void> {
  const mine = ++browseSeq;
  fileBrowserStore.set({ loading: true, error: null });
  try {
    const input = {
      purpose: fileBrowserStore.get().purpose,
      ...(where.folder ? { folder: where.folder } : {}),
      ...(where.typedPath ? { typedPath: where.typedPath } : {}),
    };
    const listing = await client().call('files.browse', input);
    if (mine === browseSeq) fileBrowserStore.set({ listing });
  } catch (e) {
    if (mine === browseSeq) fileBrowserStore.set({ error: errorText(e) });
  } finally {
    if (mine === browseSeq) fileBrowserStore.set({ loading: false });
  }
}

export async function chooseFile(ref: FileRef): Promise<void> {
  fileBrowserStore.set({ open: false });
  const handler = chosenHandler;
  chosenHandler = null;
  await handler?.(ref);
}

export function closeFileBrowser(): void {
  chosenHandler = null;
  fileBrowserStore.set({ open: false, error: null });
}
