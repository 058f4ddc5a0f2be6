import { parseTiePoints, type ChangeResult, type TiePoint } from '../../../main/contract/calls/change.js';
import { pairOverlap, pickPair } from '../map/pairOverlap.js';
import type { Subscription } from '../../../main/contract/procedures.js';
import { addMask, appendTurns, caseStore } from './caseStore.js';
import { applyChatEvent, endAnswer, type AnswerStream } from './chatEvents.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { mapStore, removePendingRegion } from './mapStore.js';

export type CompareMode = 'side' | 'blink' | 'swipe';
export type ChangeSortKey = 'area' | 'magnitude';

export interface CompareState {
  open: boolean;
  imageA: string | null;
  imageB: string | null;
  mode: CompareMode;
  /** blink: alternating A and B on one map */
  blinking: boolean;
  blinkMs: number;
  /** which date the blink view shows now */
  showingB: boolean;
  /** swipe: where the divider sits, 0–1 of the map's width (B shows right of it) */
  swipe: number;
  /** manual tie points "xa,ya:xb,yb;…" for pairs without (usable) georeference; empty = align by georeference */
  ties: string;
  /** smallest change kept, m² (pixels without georeference); empty = the default */
  minArea: string;
  running: boolean;
  result: ChangeResult | null;
  error: string | null;
  /** a notice about the pair itself (no two images overlap); not an error of a run */
  notice: string | null;
  /** the list of changed areas: sorted by area or mean magnitude, largest first unless `desc` is false */
  changeSort: { key: ChangeSortKey; desc: boolean };
  /** the changed area under the pointer (list row or map), index into result.polygons */
  hoveredChange: number | null;
  /** the changed area picked in the list (highlighted, the maps zoomed to it); `seq` grows on every pick */
  focusedChange: { index: number; seq: number } | null;
  /** "What changed here?" (the pack's bitemporal mode): the streamed answer, masks go to the map on image A */
  caption: { text: string; streaming: boolean; masks: number; region: boolean; error: string | null } | null;
}

export const compareStore = createStore<CompareState>({
  open: false,
  imageA: null,
  imageB: null,
  mode: 'side',
  blinking: false,
  blinkMs: 800,
  showingB: false,
  swipe: 0.5,
  ties: '',
  minArea: '',
  running: false,
  result: null,
  error: null,
  notice: null,
  changeSort: { key: 'area', desc: true },
  hoveredChange: null,
  focusedChange: null,
  caption: null,
});

const noSelection = { hoveredChange: null, focusedChange: null } as const;

/**
 * Opens the compare panel on a pair that overlaps (the analyst's last pair while it still does, else the first
 * overlapping pair in the case's order), or says that no two images of the case overlap.
 */
export function openCompare(): void {
  const imgs = caseStore.get().images.filter((i) => !i.missing);
  const s = compareStore.get();
  const pair = pickPair(imgs, { a: s.imageA, b: s.imageB });
  const same = pair && pair.a === s.imageA && pair.b === s.imageB;
  compareStore.set({
    open: true,
    imageA: pair?.a ?? null,
    imageB: pair?.b ?? null,
    error: null,
    notice:
      imgs.length < 2
        ? 'open two images of the same place to compare them'
        : pair
          ? null
          : `none of the ${imgs.length} images of this case overlap: open two images of the same place, or pick a pair and give tie points`,
    ...(same ? {} : { result: null, ...noSelection }),
  });
}

export function closeCompare(): void {
  compareStore.set({ open: false, blinking: false });
}

export function setPair(which: 'A' | 'B', id: string): void {
  compareStore.set({ ...(which === 'A' ? { imageA: id } : { imageB: id }), result: null, error: null, notice: null, ...noSelection });
}

/** Sorts the list of changed areas by a column; the same column again flips the order. */
export function sortChanges(key: ChangeSortKey): void {
  compareStore.set((s) => ({ changeSort: { key, desc: s.changeSort.key === key ? !s.changeSort.desc : true } }));
}

/** The changed areas (indices into result.polygons) in the list's order. */
export function sortedChanges(result: ChangeResult, sort: CompareState['changeSort']): number[] {
  const value = (i: number) => (sort.key === 'area' ? result.polygons[i]!.areaPx : result.polygons[i]!.meanMagnitude);
  return result.polygons.map((_, i) => i).sort((i, j) => (sort.desc ? value(j) - value(i) : value(i) - value(j)) || i - j);
}

export function hoverChange(index: number | null): void {
  if (compareStore.get().hoveredChange !== index) compareStore.set({ hoveredChange: index });
}

/** Picks a changed area: highlighted on the maps, which zoom to it (again on every pick). */
export function focusChange(index: number): void {
  compareStore.set((s) => ({ focusedChange: { index, seq: (s.focusedChange?.seq ?? 0) + 1 } }));
}

export function setCompareMode(mode: CompareMode): void {
  compareStore.set({ mode, blinking: mode === 'blink' ? compareStore.get().blinking : false });
}

export function toggleBlink(): void {
  compareStore.set((s) => ({ blinking: !s.blinking }));
}

/** One blink step (the view's timer calls this), or a manual flip between the dates. */
export function flipDate(): void {
  compareStore.set((s) => ({ showingB: !s.showingB }));
}

/** Runs change.analyze on the pair; the stored change mask also appears among the case's masks on the main map. */
export async function runChangeDetection(): Promise<void> {
  const { imageA, imageB, running, ties, minArea } = compareStore.get();
  const sessionId = caseStore.get().sessionId;
  if (running) return;
  if (!sessionId || !imageA || !imageB) {
    compareStore.set({ error: 'pick image A and image B first' });
    return;
  }
  if (imageA === imageB) {
    compareStore.set({ error: 'pick two different images: A is the same as B' });
    return;
  }
  // overlap first: a pair that cannot be aligned is refused before anything is parsed or run (tie points align it)
  const images = caseStore.get().images;
  const [a, b] = [images.find((i) => i.id === imageA), images.find((i) => i.id === imageB)];
  const overlap = a && b ? pairOverlap(a, b) : null;
  if (overlap && !overlap.ok && !ties.trim()) {
    compareStore.set({ error: `${overlap.why}.` });
    return;
  }
  let tiePoints: TiePoint[] | undefined;
  let min: number | undefined;
  try {
    tiePoints = ties.trim() ? parseTiePoints(ties) : undefined;
    min = minArea.trim() ? Number(minArea) : undefined;
    if (min !== undefined && !(min >= 0)) throw new Error(`the minimum area must be a number ≥ 0, got "${minArea}"`);
  } catch (e) {
    compareStore.set({ error: errorText(e) });
    return;
  }
  compareStore.set({ running: true, error: null, result: null, ...noSelection });
  try {
    const result = await client().call('change.analyze', {
      sessionId,
      imageA,
      imageB,
      ...(tiePoints ? { tiePoints } : {}),
      ...(min !== undefined ? { minArea: min } : {}),
    });
    compareStore.set({ result });
    if (result.maskId && result.turnId) {
      const polys = result.polygons.map((p) => p.polygon);
      // a reduce, not Math.min(...): thousands of vertices would overflow the argument list
      const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
      for (const p of polys) {
        for (const [x, y] of p[0]!) {
          bbox[0] = Math.min(bbox[0], x); bbox[1] = Math.min(bbox[1], y); bbox[2] = Math.max(bbox[2], x); bbox[3] = Math.max(bbox[3], y);
        }
      }
      addMask({
        id: result.maskId,
        turnId: result.turnId,
        imageId: imageA,
        regionId: null,
        phrase: `change ${result.imageA.date ?? result.imageA.name} → ${result.imageB.date ?? result.imageB.name}`,
        score: 1,
        bbox,
        polygons: polys,
        areaPx: result.stats.changedPx,
      });
      await showNewTurns(sessionId);
    }
  } catch (e) {
    compareStore.set({ error: errorText(e) });
  } finally {
    compareStore.set({ running: false });
  }
}

/** The analysis is recorded as a question and an answer in the case: append them to the chat without disturbing it. */
async function showNewTurns(sessionId: string): Promise<void> {
  const detail = await client().call('sessions.open', { sessionId });
  appendTurns(sessionId, detail.turns, detail.regions);
}

let caption: { sub: Subscription; stream: AnswerStream } | null = null;

/**
 * "What changed here?": change.caption on the pair, of the whole pair or of the region drawn on image A and not
 * yet asked about (the first pending one). Tokens stream into the panel and, like every answer, into the case's
 * chat; masks land on image A on the main map.
 */
export function askWhatChanged(text: string): void {
  const { imageA, imageB, caption: shown } = compareStore.get();
  const sessionId = caseStore.get().sessionId;
  if (shown?.streaming) return;
  if (!sessionId || !imageA || !imageB) {
    compareStore.set({ error: 'pick image A and image B first' });
    return;
  }
  const region = mapStore.get().pending.find((r) => r.imageId === imageA);
  compareStore.set({ caption: { text: '', streaming: true, masks: 0, region: !!region, error: null }, error: null });
  const patch = (p: (c: NonNullable<CompareState['caption']>) => Partial<NonNullable<CompareState['caption']>>) =>
    compareStore.set((s) => ({ caption: s.caption ? { ...s.caption, ...p(s.caption) } : null }));
  const stream: AnswerStream = { sessionId, questionId: null, answerId: null };
  const sub = client().subscribe(
    'change.caption',
    { sessionId, imageA, imageB, regions: region ? [region.geometry] : [], ...(text.trim() ? { text: text.trim() } : {}) },
    {
      next(ev) {
        applyChatEvent(stream, ev);
        if (ev.type === 'saved' && region) removePendingRegion(region.key);
        else if (ev.type === 'token') patch((c) => ({ text: c.text + ev.text }));
        else if (ev.type === 'mask') patch((c) => ({ masks: c.masks + 1 }));
        else if (ev.type === 'done') patch(() => ({ text: ev.turn.text }));
      },
      error(err) {
        caption = null;
        endAnswer(stream, { status: 'failed', error: errorText(err) });
        patch(() => ({ streaming: false, error: errorText(err) }));
      },
      complete() {
        caption = null;
        patch(() => ({ streaming: false }));
      },
    },
  );
  caption = { sub, stream };
}

export function stopWhatChanged(): void {
  if (caption) {
    caption.sub.unsubscribe();
    endAnswer(caption.stream, { status: 'cancelled' });
  }
  caption = null;
  compareStore.set((s) => ({ caption: s.caption ? { ...s.caption, streaming: false } : null }));
}
