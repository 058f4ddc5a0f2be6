import { cleanModelText } from './modelText.js';

/**
 * How a case's objects (its masks) look and are named, the same on the map, in the object list, in the chat's mask
 * chips, in the PDF legend and on the PDF's map snapshot. An object's index is its place among all masks of the case
 * in the order they were made (turn, then mask): the order `sessions.open` and the report read them in.
 */
export const OBJECT_COLOURS = ['#ff9f1c', '#2ec4b6', '#e71d36', '#a06cd5', '#8ac926', '#ffca3a', '#1982c4', '#ff595e'] as const;

/** The colour of the case's index-th object (0-based), as #rrggbb. */
export function objectColour(index: number): string {
  const n = OBJECT_COLOURS.length;
  const i = Number.isFinite(index) ? ((Math.trunc(index) % n) + n) % n : 0;
  return OBJECT_COLOURS[i]!;
}

/** An object's short name: its grounded phrase (cleaned), else "object N" numbered over the whole case (1-based). */
export function objectName(phrase: string | null | undefined, index: number): string {
  const p = cleanModelText(phrase);
  return p || `object ${index + 1}`;
}
