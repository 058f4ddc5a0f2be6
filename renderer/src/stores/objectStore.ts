import type { Mask } from '../../../main/contract/schemas.js';
import { emitAppEvent } from '../appEvents.js';
import { caseChanged, caseStore, objectNames, removeMask, replaceMask, restoreMask, setCaseError } from './caseStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';

/**
 * The case's objects as the analyst manages them: rename, colour, delete with an Undo offer. Each change is stored
 * in the case first (masks.*), then shown; the object list, the map, the chips and the exports follow the case.
 */
export interface ObjectEditState {
  /** the object just deleted, offered back by the toast until another delete, an undo or a dismiss */
  undo: { mask: Mask; name: string; sessionId: string } | null;
}

export const objectEditStore = createStore<ObjectEditState>({ undo: null });

/** label: blank gives the object back its derived name (phrase, else its question) */
export async function renameObject(maskId: string, label: string): Promise<void> {
  try {
    replaceMask(await client().call('masks.update', { maskId, label: label.trim() || null }));
    emitAppEvent('object-changed');
  } catch (e) {
    setCaseError(`could not rename the object: ${errorText(e)}`);
  }
}

export async function recolourObject(maskId: string, colour: string): Promise<void> {
  try {
    replaceMask(await client().call('masks.update', { maskId, colour }));
    emitAppEvent('object-changed');
  } catch (e) {
    setCaseError(`could not change the object's colour: ${errorText(e)}`);
  }
}

export async function deleteObject(maskId: string): Promise<void> {
  const s = caseStore.get();
  const name = objectNames(s).get(maskId) ?? 'object';
  try {
    const { mask } = await client().call('masks.delete', { maskId });
    removeMask(maskId);
    objectEditStore.set({ undo: { mask, name, sessionId: s.sessionId ?? '' } });
    caseChanged();
    emitAppEvent('object-deleted');
  } catch (e) {
    setCaseError(`could not delete the object: ${errorText(e)}`);
  }
}

/** Brings the deleted object back exactly as it was (name, colour, outline), at its place in the case. */
export async function undoDeleteObject(): Promise<void> {
  const undo = objectEditStore.get().undo;
  if (!undo) return;
  objectEditStore.set({ undo: null });
  try {
    const mask = await client().call('masks.restore', { maskId: undo.mask.id });
    if (caseStore.get().sessionId === undo.sessionId) {
      const detail = await client().call('sessions.open', { sessionId: undo.sessionId });
      restoreMask(mask, detail.masks);
    }
    caseChanged();
    emitAppEvent('object-restored');
  } catch (e) {
    setCaseError(`could not restore the object: ${errorText(e)}`);
  }
}

export function dismissObjectUndo(): void {
  objectEditStore.set({ undo: null });
}
