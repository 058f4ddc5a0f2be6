// The case's objects in the renderer (stores/caseStore.ts): names as the reports give them, colours kept, deleted
// objects leaving and coming back at their place.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Mask } from '../../../main/contract/schemas.js';
import { OBJECT_COLOURS } from '../../../main/contract/objectStyle.js';
import { addMask, caseStore, highlightMask, objectNames, removeMask, restoreMask, type CaseTurn } from './caseStore.js';

const mask = (id: string, turnId: string, phrase: string | null, extra: Partial<Mask> = {}): Mask => ({
  id, turnId, imageId: 'img1', regionId: null, phrase, score: 0.9, bbox: [0, 0, 10, 10], polygons: [], areaPx: 100, ...extra,
});
const turn = (id: string, role: 'user' | 'assistant', text: string): CaseTurn => ({
  id, role, text, status: 'complete', saved: true, regionLabels: [], provider: null, durationMs: null, error: null,
});

beforeEach(() => {
  caseStore.set({
    sessionId: 's1',
    turns: [turn('q1', 'user', 'outline the pier'), turn('a1', 'assistant', '<SEG>'), turn('q2', 'user', 'and the ships?'), turn('a2', 'assistant', '<SEG> <SEG>')],
    masks: [mask('m1', 'a1', null, { colour: '#1982c4', ordinal: 0 }), mask('m2', 'a2', null, { colour: OBJECT_COLOURS[1], ordinal: 0 }), mask('m3', 'a2', 'tug', { colour: OBJECT_COLOURS[2], ordinal: 1 })],
    focusedMaskId: null,
  });
});

describe('objects of the open case', () => {
  it('names each object by its own question or phrase, one Map while an answer streams in', () => {
    const names = objectNames();
    expect([...names.values()]).toEqual(['outline the pier', 'and the ships?', 'tug']);
    // a token arrives: the answer's text changes, the names do not (components selecting them do not re-render)
    caseStore.set((s) => ({ turns: s.turns.map((t) => (t.id === 'a2' ? { ...t, text: `${t.text} more` } : t)) }));
    expect(objectNames()).toBe(names);
    caseStore.set((s) => ({ masks: s.masks.map((m) => (m.id === 'm2' ? { ...m, label: 'Tanker' } : m)) }));
    expect(objectNames().get('m2')).toBe('Tanker');
  });

  it('gives a mask that arrives without a colour the one the server would: none of the others’', () => {
    addMask(mask('m4', 'a2', null));
    expect(caseStore.get().masks.at(-1)!.colour).toBe(OBJECT_COLOURS[0]);
  });

  it('takes a deleted object out (and its highlight), and puts it back at its place in the case', () => {
    highlightMask('m2');
    const before = caseStore.get().masks;
    const m2 = before[1]!;
    removeMask('m2');
    expect(caseStore.get().masks.map((m) => m.id)).toEqual(['m1', 'm3']);
    expect(caseStore.get().focusedMaskId).toBeNull();
    restoreMask(m2, before);
    expect(caseStore.get().masks).toEqual(before);
  });
});
