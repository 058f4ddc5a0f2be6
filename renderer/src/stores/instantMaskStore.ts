import type { InstantMask } from '../../../main/contract/calls/chat.js';
import { caseStore } from './caseStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { mapStore } from './mapStore.js';

export interface InstantMaskState {
  /** preview for the latest point/box drawn on the active image; cleared when the regions are sent or cleared */
  preview: (InstantMask & { imageId: string; regionKey: string }) | null;
  error: string | null;
}

export const instantMaskStore = createStore<InstantMaskState>({ preview: null, error: null });

let lastKey: string | null = null;

/**
 * Watches the pending regions: a new point or box asks the backend for an instant mask (grounding + pixel stages,
 * features cached per view) so the analyst sees the object at once, before and while the LLM answers. Without a pack
 * that can draw masks the backend answers with a classical segmentation of the image (`method: 'classical'`).
 */
export function startInstantMasks(): () => void {
  return mapStore.subscribe(() => {
    const { pending } = mapStore.get();
    const last = pending[pending.length - 1];
    if (!last) {
      lastKey = null;
      if (instantMaskStore.get().preview) instantMaskStore.set({ preview: null, error: null });
      return;
    }
    if (last.key === lastKey) return;
    lastKey = last.key;
    const g = last.geometry;
    if (g.kind !== 'point' && g.kind !== 'box') return;
    const sessionId = caseStore.get().sessionId;
    if (!sessionId) return;
    const key = last.key;
    const imageId = last.imageId;
    client()
      .call('chat.instantMask', { sessionId, imageId, region: g, ...(last.viewSpanPx ? { viewSpanPx: last.viewSpanPx } : {}) })
      .then((m) => {
        // a later click wins: drop answers for regions that are no longer the latest
        if (lastKey === key) instantMaskStore.set({ preview: { ...m, imageId, regionKey: key }, error: null });
      })
      .catch((e: unknown) => {
        if (lastKey === key) instantMaskStore.set({ preview: null, error: `instant mask: ${errorText(e)}` });
      });
  });
}
