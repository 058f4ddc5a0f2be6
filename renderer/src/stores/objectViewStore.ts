import { createStore } from './createStore.js';

/**
 * How the analyst looks at each object (mask) of the open case: hidden or shown, and its opacity on the map (1 = the
 * standard fill). View state only: the objects themselves, their colours and exports do not change.
 */
export interface ObjectViewState {
  hidden: string[];
  /** maskId → opacity 0…1 (absent: 1) */
  opacity: Record<string, number>;
}

export const objectViewStore = createStore<ObjectViewState>({ hidden: [], opacity: {} });

export function toggleObjectHidden(maskId: string): void {
  objectViewStore.set((s) => ({ hidden: s.hidden.includes(maskId) ? s.hidden.filter((h) => h !== maskId) : [...s.hidden, maskId] }));
}

export function setObjectOpacity(maskId: string, opacity: number): void {
  const v = Math.min(1, Math.max(0, Number.isFinite(opacity) ? opacity : 1));
  objectViewStore.set((s) => ({ opacity: { ...s.opacity, [maskId]: v } }));
}

export function objectOpacity(s: ObjectViewState, maskId: string): number {
  return s.opacity[maskId] ?? 1;
}

/** A newly opened case starts with every object shown at full opacity. */
export function resetObjectView(): void {
  objectViewStore.set({ hidden: [], opacity: {} });
}
