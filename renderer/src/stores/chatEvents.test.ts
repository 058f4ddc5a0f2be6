// The one chat-event reducer that chat.ask, change.caption and batch prompts share (stores/chatEvents.ts).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Mask, Region, Turn } from '../../../main/contract/schemas.js';
import { caseStore } from './caseStore.js';
import { applyChatEvent, applyStoredAnswer, endAnswer, type AnswerStream } from './chatEvents.js';

const turn = (over: Partial<Turn>): Turn => ({
  id: 'u1', sessionId: 's1', imageId: 'img1', role: 'user', text: 'q', regionIds: [], createdAt: '2026-01-01T00:00:00Z',
  durationMs: null, pack: null, provider: null, status: 'complete', ...over,
});
const region: Region = { id: 'reg1', imageId: 'img1', geometry: { kind: 'point', x: 5, y: 6 }, label: '1' };
const mask = (id: string): Mask => ({
  id, turnId: 'a1', imageId: 'img1', regionId: 'reg1', phrase: 'pier', score: 0.9, bbox: [0, 0, 10, 10],
  polygons: [[[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]], areaPx: 100,
});
const earlier = { id: 'old', role: 'user' as const, text: 'before', status: 'complete' as const, saved: true, regionLabels: [], provider: null, durationMs: null, error: null };

beforeEach(() => {
  caseStore.set({ sessionId: 's1', turns: [earlier], regions: [], masks: [] });
});

describe('chat events', () => {
  it('replaces the local question by its stored turn, streams tokens and masks into the answer, and finishes it', () => {
    caseStore.set((s) => ({ turns: [...s.turns, { ...earlier, id: 'local-1', text: 'where?', saved: false, regionLabels: ['<region 1>'] }] }));
    const stream: AnswerStream = { sessionId: 's1', questionId: 'local-1', answerId: null };
    applyChatEvent(stream, { type: 'saved', userTurn: turn({ id: 'u1', text: 'where?', regionIds: ['reg1'] }), regions: [region], assistantTurnId: 'a1' });
    applyChatEvent(stream, { type: 'token', index: 0, text: 'The ' });
    applyChatEvent(stream, { type: 'token', index: 1, text: 'pier' });
    applyChatEvent(stream, { type: 'mask', mask: mask('m1') });
    expect(caseStore.get().turns.map((t) => [t.id, t.status, t.text])).toEqual([['old', 'complete', 'before'], ['u1', 'complete', 'where?'], ['a1', 'streaming', 'The pier']]);
    applyChatEvent(stream, { type: 'done', turn: turn({ id: 'a1', role: 'assistant', text: 'The pier <SEG>', provider: 'cpu', durationMs: 900 }) });

    const s = caseStore.get();
    expect(s.turns[1]).toMatchObject({ id: 'u1', saved: true, regionLabels: ['1'] });
    expect(s.turns[2]).toMatchObject({ id: 'a1', text: 'The pier <SEG>', status: 'complete', saved: true, provider: 'cpu', durationMs: 900 });
    expect(s.regions).toEqual([region]);
    expect(s.masks).toEqual([mask('m1')]);
  });

  it('applies a stored batch result as the question and answer a stream would have given', () => {
    applyStoredAnswer('s1', {
      userTurn: turn({ id: 'bu', text: 'Batch prompts: 2 prompts', regionIds: ['reg1'] }),
      assistantTurn: turn({ id: 'ba', role: 'assistant', text: '2 masks from 2 prompts', provider: 'cpu', durationMs: 40 }),
      regions: [region],
      masks: [mask('m1'), mask('m2')],
    });
    const s = caseStore.get();
    expect(s.turns.slice(1)).toEqual([
      { id: 'bu', role: 'user', text: 'Batch prompts: 2 prompts', status: 'complete', saved: true, regionLabels: ['1'], provider: null, durationMs: null, error: null },
      { id: 'ba', role: 'assistant', text: '2 masks from 2 prompts', status: 'complete', saved: true, regionLabels: [], provider: 'cpu', durationMs: 40, error: null },
    ]);
    expect(s.masks.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(s.regions).toEqual([region]);
  });

  it('drops the events of a case that is no longer open', () => {
    const stream: AnswerStream = { sessionId: 'other', questionId: null, answerId: null };
    applyChatEvent(stream, { type: 'saved', userTurn: turn({}), regions: [region], assistantTurnId: 'a1' });
    applyChatEvent(stream, { type: 'mask', mask: mask('m1') });
    expect(caseStore.get()).toMatchObject({ turns: [earlier], regions: [], masks: [] });
  });

  it('marks only its own answer when a stream breaks or stops, and tells when nothing was stored yet', () => {
    const a: AnswerStream = { sessionId: 's1', questionId: null, answerId: null };
    const b: AnswerStream = { sessionId: 's1', questionId: null, answerId: null };
    expect(endAnswer(a, { status: 'failed' })).toBe(false);
    applyChatEvent(a, { type: 'saved', userTurn: turn({ id: 'ua' }), regions: [], assistantTurnId: 'aa' });
    applyChatEvent(b, { type: 'saved', userTurn: turn({ id: 'ub' }), regions: [], assistantTurnId: 'ab' });
    expect(endAnswer(a, { status: 'failed', error: 'INTERNAL: worker exited' })).toBe(true);
    const byId = (id: string) => caseStore.get().turns.find((t) => t.id === id);
    expect(byId('aa')).toMatchObject({ status: 'failed', error: 'INTERNAL: worker exited' });
    expect(byId('ab')).toMatchObject({ status: 'streaming', error: null });
  });
});
