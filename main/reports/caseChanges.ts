import { parseChangeRecord, type ChangeRecord } from '../change/changeRecord.js';
import type { CaseSnapshot, ImageFactsRow } from './caseObjects.js';

/** A change analysis stored in the case, with both images as the case holds them (null when since removed). */
export interface CaseChange {
  turnId: string;
  record: ChangeRecord;
  before: ImageFactsRow | null;
  after: ImageFactsRow | null;
}

const cache = new WeakMap<CaseSnapshot, Map<string, CaseChange>>();

/** The case's change analyses by answer turn: a 'classical' answer whose question is a change-analysis request. */
export function caseChanges(snapshot: CaseSnapshot): Map<string, CaseChange> {
  let found = cache.get(snapshot);
  if (found) return found;
  found = new Map();
  const byId = new Map(snapshot.images.map((i) => [i.id, i]));
  snapshot.turns.forEach((t, i) => {
    const q = snapshot.turns[i - 1];
    if (t.role !== 'assistant' || t.provider !== 'classical' || q?.role !== 'user') return;
    const record = parseChangeRecord(q.text, t.text);
    if (!record) return;
    found.set(t.id, { turnId: t.id, record, before: byId.get(record.before.imageId) ?? null, after: byId.get(record.after.imageId) ?? null });
  });
  cache.set(snapshot, found);
  return found;
}
