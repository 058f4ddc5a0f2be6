import type { ImageInfo, Mask, Region, SessionDetail, Turn } from '../../../main/contract/schemas.js';
import { OBJECT_COLOURS, colourOf, nextObjectColour, objectLabels } from '../../../main/contract/objectStyle.js';
import { setBodyState } from '../appEvents.js';
import { createStore } from './createStore.js';

/**
 * The open case: what `sessions.open` returned (its images, regions, masks and turns), kept up to date as answers,
 * images and masks arrive, plus which of its images is active, hidden or highlighted. The case's summary (name,
 * counts) lives in the session list (sessionStore), which renames and re-counts it.
 */
export type CaseImage = ImageInfo & { missing?: boolean };

/** A turn as the chat shows it: stored turns, and the question asked but not yet stored (saved: false). */
export interface CaseTurn {
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

export interface CaseState {
  sessionId: string | null;
  images: CaseImage[];
  regions: Region[];
  masks: Mask[];
  turns: CaseTurn[];
  /** the image questions are asked about and regions are drawn on */
  activeImageId: string | null;
  hiddenImageIds: string[];
  /** the mask highlighted on the map (object list hover, a mask chip) */
  focusedMaskId: string | null;
  /** an image is being opened into the case */
  busy: boolean;
  /** the last failed imagery or map action, shown in the toolbar */
  error: string | null;
}

export const caseStore = createStore<CaseState>({
  sessionId: null,
  images: [],
  regions: [],
  masks: [],
  turns: [],
  activeImageId: null,
  hiddenImageIds: [],
  focusedMaskId: null,
  busy: false,
  error: null,
});

/** set at start-up (startStores): case summaries (image/turn counts) are re-read after changes */
let onCaseChanged: (() => void) | null = null;
export function setCaseChangedListener(fn: () => void): void {
  onCaseChanged = fn;
}
export function caseChanged(): void {
  onCaseChanged?.();
}

export function activeImage(s: CaseState = caseStore.get()): CaseImage | null {
  return s.images.find((i) => i.id === s.activeImageId) ?? null;
}

export function fromTurn(t: Turn, regions: Region[]): CaseTurn {
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

/** Shows a case just opened; its most recently added usable image becomes the active one. */
export function showCase(detail: SessionDetail): void {
  const usable = detail.images.filter((i) => !i.missing);
  const active = usable[usable.length - 1] ?? null;
  caseStore.set({
    sessionId: detail.session.id,
    images: detail.images,
    regions: detail.regions,
    masks: detail.masks,
    turns: detail.turns.map((t) => fromTurn(t, detail.regions)),
    activeImageId: active?.id ?? null,
    hiddenImageIds: [],
    focusedMaskId: null,
    error: null,
  });
  setBodyState('activeImage', active?.id ?? null);
}

/** An image opened into the case becomes the active one (shown again if it was hidden). */
export function addImage(info: ImageInfo): void {
  caseStore.set((s) => ({
    images: [...s.images.filter((i) => i.id !== info.id), info],
    activeImageId: info.id,
    hiddenImageIds: s.hiddenImageIds.filter((id) => id !== info.id),
  }));
  setBodyState('activeImage', info.id);
}

/** Makes an image the active one; returns it, or null when it is not in the case or its file is missing. */
export function selectImage(id: string): CaseImage | null {
  const img = caseStore.get().images.find((i) => i.id === id);
  if (!img || img.missing) return null;
  caseStore.set((s) => ({ activeImageId: id, hiddenImageIds: s.hiddenImageIds.filter((h) => h !== id) }));
  setBodyState('activeImage', id);
  return img;
}

export function toggleImageVisible(id: string): void {
  caseStore.set((s) => ({
    hiddenImageIds: s.hiddenImageIds.includes(id) ? s.hiddenImageIds.filter((h) => h !== id) : [...s.hiddenImageIds, id],
  }));
}

/** A layer stored as hidden stays hidden after reopening the case. */
export function hideImage(id: string): void {
  if (!caseStore.get().hiddenImageIds.includes(id)) caseStore.set((s) => ({ hiddenImageIds: [...s.hiddenImageIds, id] }));
}

export function setImageOrder(images: CaseImage[]): void {
  caseStore.set({ images });
}

/** A mask shown as it arrives; one without a stored colour (built here, not stored yet) gets the one the server would. */
export function addMask(mask: Mask): void {
  caseStore.set((s) => {
    const others = s.masks.filter((m) => m.id !== mask.id);
    // as the repository chooses: none of the 7 newest others' colours
    const colour = mask.colour ?? nextObjectColour(others.map((m, i) => colourOf(m, i)).slice(-(OBJECT_COLOURS.length - 1)));
    return { masks: [...others, { ...mask, colour }] };
  });
}

/** A stored object changed (renamed, recoloured): replaced in place, keeping its place in the case. */
export function replaceMask(mask: Mask): void {
  caseStore.set((s) => ({ masks: s.masks.map((m) => (m.id === mask.id ? mask : m)) }));
}

/** A deleted object leaves the case (map, list, chips); the highlight goes with it. */
export function removeMask(maskId: string): void {
  caseStore.set((s) => ({ masks: s.masks.filter((m) => m.id !== maskId), focusedMaskId: s.focusedMaskId === maskId ? null : s.focusedMaskId }));
}

/** A restored object back at its place in the case (turn order, then the order its answer made them). */
export function restoreMask(mask: Mask, masksInOrder: Mask[]): void {
  caseStore.set((s) => {
    if (s.masks.some((m) => m.id === mask.id)) return {};
    const order = masksInOrder.map((m) => m.id);
    const masks = [...s.masks, mask].sort((a, b) => rank(order, a.id) - rank(order, b.id));
    return { masks };
  });
}
const rank = (order: string[], id: string) => {
  const i = order.indexOf(id);
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
};

let namesCache: { masks: Mask[]; questions: string; names: Map<string, string> } | null = null;

/**
 * Every object's name (contract/objectStyle.ts objectLabels), the same as the reports give: id → name. The same Map
 * while the masks and the questions are unchanged (an answer streaming in changes neither), so it can be selected.
 */
export function objectNames(s: CaseState = caseStore.get()): Map<string, string> {
  const questions = s.turns.map((t) => (t.role === 'user' ? `${t.id}\u0000${t.text}` : t.id)).join('\u0001');
  if (namesCache?.masks !== s.masks || namesCache.questions !== questions) namesCache = { masks: s.masks, questions, names: objectLabels(s.masks, s.turns) };
  return namesCache.names;
}

/** Hover: the mask is highlighted on the map without moving it. */
export function highlightMask(maskId: string | null): void {
  caseStore.set({ focusedMaskId: maskId });
}

/** Stored turns of the open case the chat does not show yet (recorded by a call that returns no turns). */
export function appendTurns(sessionId: string, turns: Turn[], regions: Region[]): void {
  if (caseStore.get().sessionId !== sessionId) return;
  caseStore.set((s) => ({
    turns: [...s.turns, ...turns.filter((t) => !s.turns.some((c) => c.id === t.id)).map((t) => fromTurn(t, regions))],
  }));
}

export function setCaseError(error: string | null): void {
  caseStore.set({ error });
}
