import { VantageError } from '../contract/errors.js';
import type { HandlersOf } from '../contract/procedures.js';
import { checkDroppedImage } from './droppedFile.js';
import type { FileAccess, Purpose } from './fileAccess.js';

export interface FileChoosing {
  mode: 'electron' | 'browser';
  /** Electron's native dialogs; absent in browser mode, where the backend file browser is used */
  dialogs?: { pick(purpose: Purpose): Promise<string | null> } | undefined;
}

/** A file dropped on the map in the desktop app → a reference (in the browser a dropped file is uploaded instead). */
export async function refForDrop(files: FileAccess, how: FileChoosing, droppedPath: string) {
  if (how.mode !== 'electron') throw new VantageError('UNSUPPORTED', 'in the browser a dropped file is uploaded, not named by path');
  return { ref: files.refFor(await checkDroppedImage(droppedPath), 'file') };
}

/** The native dialog's choice → a reference (null when cancelled); only the desktop app has native dialogs. */
export async function refForPick(files: FileAccess, how: FileChoosing, purpose: Purpose) {
  if (!how.dialogs) throw new VantageError('UNSUPPORTED', 'native dialogs exist only in the desktop app; use files.browse');
  const picked = await how.dialogs.pick(purpose);
  return { ref: picked === null ? null : files.refFor(picked, purpose === 'folder' || purpose === 'pack' ? 'dir' : 'file') };
}

/** files.*: what the user may open, named by references (the page never sees a path it did not type). */
export function fileHandlers(files: FileAccess, how: FileChoosing): HandlersOf<'files'> {
  return {
    'files.browse': (i) => files.browse(i),
    'files.fromDrop': (i) => refForDrop(files, how, i.path),
    'files.pick': (i) => refForPick(files, how, i.purpose),
  };
}
