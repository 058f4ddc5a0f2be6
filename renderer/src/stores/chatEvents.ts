import type { ChatEvent, Mask, Region, Turn } from '../../../main/contract/schemas.js';
import { caseStore, fromTurn, type CaseState, type CaseTurn } from './caseStore.js';

/**
 * The one place a ChatEvent changes the open case. The chat (chat.ask), the compare panel's "What changed here?"
 * (change.caption) and batch prompts (chat.batchMasks, whose stored result is replayed as events) all go through
 * here; what each shows besides (the chat's errors, the caption line, the batch summary) stays in its own store.
 */
export interface AnswerStream {
  /** the case the answer belongs to: events that arrive after another case was opened are dropped */
  sessionId: string;
  /** the local stand-in for the question, replaced by the stored user turn ('saved'); null when there is none */
  questionId: string | null;
  /** the stored assistant turn the tokens go to, known once 'saved' arrived */
  answerId: string | null;
}

/** The case after one event of `stream` (pure: `stream.answerId` must already name the answer for tokens and done). */
export function reduceChatEvent(s: CaseState, stream: AnswerStream, ev: ChatEvent): Partial<CaseState> {
  switch (ev.type) {
    case 'saved': {
      const question = fromTurn(ev.userTurn, ev.regions);
      const answer: CaseTurn = {
        id: ev.assistantTurnId, role: 'assistant', text: '', status: 'streaming', saved: false,
        regionLabels: [], provider: null, durationMs: null, error: null,
      };
      const replaced = stream.questionId !== null && s.turns.some((t) => t.id === stream.questionId);
      return {
        turns: [...(replaced ? s.turns.map((t) => (t.id === stream.questionId ? question : t)) : [...s.turns, question]), answer],
        regions: [...s.regions.filter((r) => !ev.regions.some((n) => n.id === r.id)), ...ev.regions],
      };
    }
    case 'token':
      return { turns: s.turns.map((t) => (t.id === stream.answerId ? { ...t, text: t.text + ev.text } : t)) };
    case 'mask':
      return { masks: [...s.masks.filter((m) => m.id !== ev.mask.id), ev.mask] };
    case 'done': {
      const { text, status, provider, durationMs } = ev.turn;
      return { turns: s.turns.map((t) => (t.id === stream.answerId ? { ...t, text, status, provider, durationMs, saved: true } : t)) };
    }
  }
}

export function applyChatEvent(stream: AnswerStream, ev: ChatEvent): void {
  if (ev.type === 'saved') stream.answerId = ev.assistantTurnId;
  if (caseStore.get().sessionId !== stream.sessionId) return;
  caseStore.set((s) => reduceChatEvent(s, stream, ev));
}

/** A question and answer stored in one go (batch prompts): applied as the events a streamed answer would have sent. */
export function applyStoredAnswer(sessionId: string, r: { userTurn: Turn; assistantTurn: Turn; regions: Region[]; masks: Mask[] }): void {
  const stream: AnswerStream = { sessionId, questionId: null, answerId: null };
  applyChatEvent(stream, { type: 'saved', userTurn: r.userTurn, regions: r.regions, assistantTurnId: r.assistantTurn.id });
  for (const mask of r.masks) applyChatEvent(stream, { type: 'mask', mask });
  applyChatEvent(stream, { type: 'done', turn: r.assistantTurn });
}

/** The stream broke or was stopped: its stored answer, while still streaming, is marked so; false when nothing was stored yet. */
export function endAnswer(stream: AnswerStream, patch: Partial<CaseTurn>): boolean {
  const id = stream.answerId;
  if (!id) return false;
  caseStore.set((s) => ({ turns: s.turns.map((t) => (t.id === id && t.status === 'streaming' ? { ...t, ...patch } : t)) }));
  return true;
}
