import { CLASSICAL_MASK_NOTE, type BatchEvent, type BatchPrompt } from '../../../main/contract/calls/chat.js';
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
  await chooseFor('prompts', 'Prompts from file (GeoJSON points / polygons)', async (file) => {
    runBatch({ file });
  });
}

/**
 * "Keep": stores the instant-mask preview's point or box as an object of the case (the same path as a batch of one,
 * so a classical mask is kept, named and exported like any other). Returns false when another batch is running.
 */
export function keepPrompt(imageId: string, prompt: BatchPrompt, viewSpanPx?: number): boolean {
  return runBatch({ prompts: [prompt], ...(viewSpanPx ? { viewSpanPx } : {}) }, imageId);
}

function runBatch(from: { file: FileRef } | { prompts: BatchPrompt[]; viewSpanPx?: number }, imageId?: string): boolean {
  const c = caseStore.get();
  const img = activeImage(c);
  const target = imageId ?? img?.id;
  if (!c.sessionId || !target || current) return false;
  batchMaskStore.set({ running: true, done: 0, total: 0, summary: null, error: null });
  const sessionId = c.sessionId;
  current = client().subscribe(
    'chat.batchMasks',
    { sessionId, imageId: target, ...from },
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
        const masks = r.items.length - r.empty;
        batchMaskStore.set({
          summary:
            `${masks} mask${masks === 1 ? '' : 's'} from ${r.total} prompt${r.total === 1 ? '' : 's'}` +
            (r.skippedOutside ? ` · ${r.skippedOutside} outside the image (skipped)` : '') +
            (r.empty ? ` · ${r.empty} found nothing` : '') +
            ` · ${s.msPerPrompt.toFixed(0)} ms per prompt` +
            (r.method === 'classical' ? ` · ${CLASSICAL_MASK_NOTE}` : ` · tiles ${s.tilesNew} new, ${s.tilesCached} cached`),
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
  return true;
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
