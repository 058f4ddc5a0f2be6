import type { BatchEvent } from '../../../main/contract/calls/chat.js';
import type { Subscription } from '../../../main/contract/procedures.js';
import type { FileRef } from '../../../main/contract/schemas.js';
import { emitAppEvent } from '../appEvents.js';
import { activeImage, caseChanged, caseStore } from './caseStore.js';
import { applyStoredAnswer } from './chatEvents.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { chooseFor } from './fileBrowserStore.js';

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
  const c = caseStore.get();
  const img = activeImage(c);
  if (!c.sessionId || !img || current) return;
  batchMaskStore.set({ running: true, done: 0, total: 0, summary: null, error: null });
  const sessionId = c.sessionId;
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
        // stored only when something was measured: then it is one question (the prompts) and its answer (the masks)
        if (r.userTurn && r.assistantTurn) applyStoredAnswer(sessionId, { ...r, userTurn: r.userTurn, assistantTurn: r.assistantTurn });
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
