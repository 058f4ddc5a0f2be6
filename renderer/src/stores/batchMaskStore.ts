import type { BatchEvent } from '../../../main/contract/calls/chat.js';
import type { Subscription } from '../../../main/contract/procedures.js';
import type { FileRef } from '../../../main/contract/schemas.js';
import { emitAppEvent } from '../appEvents.js';
import { chatStore, fromTurn } from './chatStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { chooseFor } from './fileBrowserStore.js';
import { activeImage, addMask, caseChanged, mapStore } from './mapStore.js';

export interface BatchMaskState {
  running: boolean;
  done: number;
  total: number;
  /** the last batch's outcome ("12 masks from 14 prompts …" or "cancelled: nothing stored") */
  summary: string | null;
  error: string | null;
}

export const batchMaskStore = createStore<BatchMaskState>({ running: false, done: 0, total: 0, summary: null, error: null });

let current: Subscription | null = null;

/** "Prompts from file…": a GeoJSON of points/polygons → an instant mask per feature, stored in the case at the end. */
export async function promptsFromFile(): Promise<void> {
  await chooseFor('prompts', 'Prompts from file (GeoJSON points / polygons)', async (ref) => runBatch(ref));
}

function runBatch(file: FileRef): void {
  const m = mapStore.get();
  const img = activeImage(m);
  if (!m.sessionId || !img || current) return;
  batchMaskStore.set({ running: true, done: 0, total: 0, summary: null, error: null });
  const sessionId = m.sessionId;
  current = client().subscribe(
    'chat.batchMasks',
    { sessionId, imageId: img.id, file },
    {
      next(ev: BatchEvent) {
        if (ev.type === 'progress') {
          batchMaskStore.set({ done: ev.done, total: ev.total });
          return;
        }
        const r = ev.result;
        if (mapStore.get().sessionId === sessionId) {
          const shown = r.regions;
          mapStore.set((s) => ({ regions: [...s.regions.filter((x) => !shown.some((n) => n.id === x.id)), ...shown] }));
          for (const mask of r.masks) addMask(mask);
          if (r.userTurn && r.assistantTurn) {
            const turns = [{ ...fromTurn(r.userTurn, r.regions), saved: true }, { ...fromTurn(r.assistantTurn, []), saved: true }];
            chatStore.set((s) => ({ turns: [...s.turns, ...turns] }));
          }
        }
        const s = r.stats;
        batchMaskStore.set({
          summary:
            `${r.items.length - r.empty} masks from ${r.total} prompts` +
            (r.skippedOutside ? ` · ${r.skippedOutside} outside the image (skipped)` : '') +
            (r.empty ? ` · ${r.empty} found nothing` : '') +
            ` · ${s.msPerPrompt.toFixed(0)} ms per prompt · tiles ${s.tilesNew} new, ${s.tilesCached} cached`,
        });
      },
      error(err) {
        current = null;
        batchMaskStore.set({ running: false, error: `prompts from file: ${errorText(err)}` });
      },
      complete() {
        current = null;
        batchMaskStore.set({ running: false });
        caseChanged();
        emitAppEvent('batch-done');
      },
    },
  );
}

/** Stops the batch: the backend stores nothing of it (its masks are written in one transaction at the end). */
export function cancelBatch(): void {
  if (!current) return;
  current.unsubscribe();
  current = null;
  batchMaskStore.set({ running: false, summary: 'cancelled: nothing stored', error: null });
}

export function dismissBatch(): void {
  batchMaskStore.set({ summary: null, error: null });
}
