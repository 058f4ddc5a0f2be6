import type { Subscription } from '../../../main/contract/procedures.js';
import { TASK_MODE_SPECS, type TaskMode } from '../../../main/contract/taskModes.js';
import { emitAppEvent } from '../appEvents.js';
import { activeImage, caseChanged, caseStore } from './caseStore.js';
import { applyChatEvent, endAnswer, type AnswerStream } from './chatEvents.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { clearPendingRegions, mapStore } from './mapStore.js';
import { refreshModelStatus } from './modelStore.js';

/** The chat composer's side: the answer mode, whether an answer is streaming, and a question that was refused. The turns are the case's (caseStore). */
export type ChatMode = TaskMode;

export interface ChatState {
  mode: ChatMode;
  streaming: boolean;
  error: string | null;
}

export const chatStore = createStore<ChatState>({ mode: 'chat', streaming: false, error: null });

let current: { sub: Subscription; stream: AnswerStream } | null = null;
let localId = 0;

/** Another case is opening: the answer being generated stops, and a refusal shown for the last case goes. */
export function resetChat(): void {
  stopAnswer();
  chatStore.set({ streaming: false, error: null });
}

export function setMode(mode: ChatMode): void {
  chatStore.set({ mode });
}

export function ask(text: string): boolean {
  const trimmed = text.trim();
  const c = caseStore.get();
  const img = activeImage(c);
  // presets such as scene classification are a full question without text
  if (!trimmed && !TASK_MODE_SPECS[chatStore.get().mode].textOptional) return false;
  if (chatStore.get().streaming) return false;
  if (!c.sessionId) {
    chatStore.set({ error: 'no case is open: create or select one in the sidebar' });
    return false;
  }
  if (!img) {
    chatStore.set({ error: 'open an image first: questions are asked about the active image' });
    return false;
  }
  const regions = mapStore.get().pending.filter((r) => r.imageId === img.id).map((r) => r.geometry);
  const stream: AnswerStream = { sessionId: c.sessionId, questionId: `local-${++localId}`, answerId: null };
  chatStore.set({ error: null, streaming: true });
  caseStore.set((s) => ({
    turns: [
      ...s.turns,
      {
        id: stream.questionId!, role: 'user', text: trimmed, status: 'complete', saved: false,
        regionLabels: regions.map((_, i) => `<region ${i + 1}>`), provider: null, durationMs: null, error: null,
      },
    ],
  }));

  const finish = () => {
    current = null;
    chatStore.set({ streaming: false });
  };
  const sub = client().subscribe(
    'chat.ask',
    { sessionId: c.sessionId, imageId: img.id, text: trimmed, regions, mode: chatStore.get().mode },
    {
      next(ev) {
        applyChatEvent(stream, ev);
        if (ev.type === 'saved') {
          // the stored question's regions replace the drawn ones
          clearPendingRegions();
          emitAppEvent('turn-saved');
        } else if (ev.type === 'mask') emitAppEvent('mask-shown');
      },
      error(err) {
        const message = errorText(err);
        if (!endAnswer(stream, { status: 'failed', error: message })) chatStore.set({ error: `the question was not sent: ${message}` });
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
  current = { sub, stream };
  return true;
}

/** Stops the answer being generated; the backend marks the turn cancelled. */
export function stopAnswer(): void {
  if (!current) return;
  current.sub.unsubscribe();
  endAnswer(current.stream, { status: 'cancelled' });
  current = null;
  chatStore.set({ streaming: false });
}
