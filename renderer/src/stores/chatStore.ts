import type { Subscription } from '../../../main/contract/procedures.js';
import type { ChatEvent, Region, Turn } from '../../../main/contract/schemas.js';
import { TASK_MODE_SPECS, type TaskMode } from '../../../main/contract/taskModes.js';
import { emitAppEvent } from '../appEvents.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { activeImage, addMask, caseChanged, commitRegions, mapStore } from './mapStore.js';
import { refreshModelStatus } from './modelStore.js';

export type ChatMode = TaskMode;
export interface ChatTurn {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  status: Turn['status'];
  /** user turns: stored by the backend */
  saved: boolean;
  regionLabels: string[];
  provider: string | null;
  durationMs: number | null;
  error: string | null;
}

export interface ChatState {
  turns: ChatTurn[];
  mode: ChatMode;
  streaming: boolean;
  error: string | null;
}

export const chatStore = createStore<ChatState>({ turns: [], mode: 'chat', streaming: false, error: null });

let current: Subscription | null = null;
let localId = 0;

export function fromTurn(t: Turn, regions: Region[]): ChatTurn {
  return {
    id: t.id,
    role: t.role,
    text: t.text,
    status: t.status,
    saved: true,
    regionLabels: t.regionIds.map((id) => regions.find((r) => r.id === id)?.label ?? '').filter(Boolean),
    provider: t.provider,
    durationMs: t.durationMs,
    error: null,
  };
}

export function restoreChat(turns: Turn[], regions: Region[]): void {
  stopAnswer();
  chatStore.set({ turns: turns.map((t) => fromTurn(t, regions)), streaming: false, error: null });
}

export function setMode(mode: ChatMode): void {
  chatStore.set({ mode });
}

const patchTurn = (id: string, patch: Partial<ChatTurn>) =>
  chatStore.set((s) => ({ turns: s.turns.map((t) => (t.id === id ? { ...t, ...patch } : t)) }));

export function ask(text: string): boolean {
  const trimmed = text.trim();
  const m = mapStore.get();
  const img = activeImage(m);
  // presets such as scene classification are a full question without text
  if (!trimmed && !TASK_MODE_SPECS[chatStore.get().mode].textOptional) return false;
  if (chatStore.get().streaming) return false;
  if (!m.sessionId) {
    chatStore.set({ error: 'no case is open: create or select one in the sidebar' });
    return false;
  }
  if (!img) {
    chatStore.set({ error: 'open an image first: questions are asked about the active image' });
    return false;
  }
  const regions = m.pending.filter((r) => r.imageId === img.id).map((r) => r.geometry);
  const userId = `local-${++localId}`;
  let assistantId: string | null = null;
  chatStore.set((s) => ({
    error: null,
    streaming: true,
    turns: [
      ...s.turns,
      {
        id: userId, role: 'user', text: trimmed, status: 'complete', saved: false,
        regionLabels: regions.map((_, i) => `<region ${i + 1}>`), provider: null, durationMs: null, error: null,
      },
    ],
  }));

  const finish = () => {
    current = null;
    chatStore.set({ streaming: false });
  };
  current = client().subscribe(
    'chat.ask',
    { sessionId: m.sessionId, imageId: img.id, text: trimmed, regions, mode: chatStore.get().mode },
    {
      next(ev: ChatEvent) {
        switch (ev.type) {
          case 'saved': {
            assistantId = ev.assistantTurnId;
            const saved = fromTurn(ev.userTurn, ev.regions);
            chatStore.set((s) => ({
              turns: [
                ...s.turns.map((t) => (t.id === userId ? saved : t)),
                {
                  id: ev.assistantTurnId, role: 'assistant', text: '', status: 'streaming', saved: false,
                  regionLabels: [], provider: null, durationMs: null, error: null,
                },
              ],
            }));
            commitRegions(ev.regions);
            emitAppEvent('turn-saved');
            break;
          }
          case 'token':
            if (assistantId) {
              const id = assistantId;
              chatStore.set((s) => ({ turns: s.turns.map((t) => (t.id === id ? { ...t, text: t.text + ev.text } : t)) }));
            }
            break;
          case 'mask':
            addMask(ev.mask);
            emitAppEvent('mask-shown');
            break;
          case 'done':
            if (assistantId) {
              patchTurn(assistantId, { text: ev.turn.text, status: ev.turn.status, provider: ev.turn.provider, durationMs: ev.turn.durationMs, saved: true });
            }
            break;
        }
      },
      error(err) {
        const message = errorText(err);
        if (assistantId) patchTurn(assistantId, { status: 'failed', error: message });
        else chatStore.set({ error: `the question was not sent: ${message}` });
        finish();
      },
      complete() {
        finish();
        emitAppEvent('answer-done');
        void refreshModelStatus();
        caseChanged();
      },
    },
  );
  return true;
}

/** Stops the answer being generated; the backend marks the turn cancelled. */
export function stopAnswer(): void {
  if (!current) return;
  current.unsubscribe();
  current = null;
  chatStore.set((s) => ({
    streaming: false,
    turns: s.turns.map((t) => (t.status === 'streaming' ? { ...t, status: 'cancelled' } : t)),
  }));
}
