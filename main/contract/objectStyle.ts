import { cleanModelText } from './modelText.js';

/**
 * How a case's objects (its masks, and any other object kind stored with them) look and are named, the same on the
 * map, in the object list, in the chat's mask chips, in the PDF legend and on the PDF's map snapshot. An object's
 * colour is chosen once, when it is stored (`nextObjectColour`), and kept with it: a new object never repaints an
 * older one, and deleting one changes no other. Its name is the analyst's label, else derived (`objectLabel`).
 */
export const OBJECT_COLOURS = ['#ff9f1c', '#2ec4b6', '#e71d36', '#a06cd5', '#8ac926', '#ffca3a', '#1982c4', '#ff595e'] as const;

/** a colour as objects store it: #rrggbb, lower case */
export const HEX_COLOUR = /^#[0-9a-f]{6}$/;

/** The palette's index-th colour (0-based, cycling), as #rrggbb: what objects stored before colours were kept had. */
export function objectColour(index: number): string {
  const n = OBJECT_COLOURS.length;
  const i = Number.isFinite(index) ? ((Math.trunc(index) % n) + n) % n : 0;
  return OBJECT_COLOURS[i]!;
}

/**
 * The colour a new object gets, given the colours of the case's newest objects (the repository passes the 7 newest
 * live ones): the palette colour used least among them (ties: palette order), so never one of those while a
 * palette colour is free. The first object is orange, the second teal…, then the palette cycles.
 */
export function nextObjectColour(used: readonly (string | null | undefined)[]): string {
  const counts = new Map<string, number>(OBJECT_COLOURS.map((c) => [c, 0]));
  for (const c of used) if (c && counts.has(c.toLowerCase())) counts.set(c.toLowerCase(), counts.get(c.toLowerCase())! + 1);
  let best: string = OBJECT_COLOURS[0];
  for (const c of OBJECT_COLOURS) if (counts.get(c)! < counts.get(best)!) best = c;
  return best;
}

/** An object's colour: the one stored with it; without one (not stored yet), the palette's `index`-th. */
export function colourOf(o: { colour?: string | null }, index: number): string {
  return o.colour && HEX_COLOUR.test(o.colour) ? o.colour : objectColour(index);
}

/** longest question text used as a label */
const QUESTION_CHARS = 40;

/** A question as a short label: the clean text, cut at a word to at most 40 characters with an ellipsis. */
export function shortQuestion(text: string | null | undefined): string {
  const t = cleanModelText(text).replace(/\s+/g, ' ').trim();
  if (t.length <= QUESTION_CHARS) return t;
  const cut = t.slice(0, QUESTION_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space >= QUESTION_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, '')}…`;
}

/** What an object's name is made of. */
export interface ObjectNaming {
  /** the analyst's name for it (masks.update); wins when set */
  label?: string | null;
  /** the grounded phrase the model gave it */
  phrase: string | null;
}

export interface ObjectContext {
  /** its place among the case's objects (0-based): "object N" when nothing else names it */
  index: number;
  /** the question that asked for it (the user turn before its answer) */
  question?: string | null;
  /** its place among its answer's objects (1-based): the second and later of one question are told apart */
  nth?: number;
}

/**
 * An object's short name: the analyst's label; else its grounded phrase (cleaned); else the question that asked for
 * it, shortened ("(k)" added to the k-th object of one answer from the second on); else "object N" over the case.
 */
export function objectLabel(o: ObjectNaming, ctx: ObjectContext): string {
  const own = (o.label ?? '').trim();
  if (own) return own;
  const p = cleanModelText(o.phrase);
  if (p) return p;
  const q = shortQuestion(ctx.question);
  if (q) return ctx.nth && ctx.nth > 1 ? `${q} (${ctx.nth})` : q;
  return `object ${ctx.index + 1}`;
}

/** An object's short name from its phrase alone: its grounded phrase (cleaned), else "object N" (1-based). */
export function objectName(phrase: string | null | undefined, index: number): string {
  return objectLabel({ phrase: phrase ?? null }, { index });
}

/** A turn as naming needs it: its id, role and text, in the case's order. */
export interface NamingTurn {
  id: string;
  role: 'user' | 'assistant';
  text: string;
}

/**
 * Every object's name in a case at once (objects in case order; turns in case order): the context `objectLabel`
 * needs — the question before each answer, each object's place in its answer — worked out once, the same for the
 * renderer (map, list, chips) and the reports (legend, tables, GeoJSON/GPKG attributes).
 */
export function objectLabels(
  objects: readonly (ObjectNaming & { id: string; turnId: string; ordinal?: number | undefined })[],
  turns: readonly NamingTurn[],
): Map<string, string> {
  const question = new Map<string, string>();
  turns.forEach((t, i) => {
    const prev = turns[i - 1];
    if (t.role === 'assistant' && prev?.role === 'user') question.set(t.id, prev.text);
  });
  const seen = new Map<string, number>();
  const names = new Map<string, string>();
  objects.forEach((o, index) => {
    // its place in its answer as stored (deleted ones counted: names do not shift), else as listed
    const listed = (seen.get(o.turnId) ?? 0) + 1;
    seen.set(o.turnId, listed);
    const nth = o.ordinal !== undefined ? o.ordinal + 1 : listed;
    names.set(o.id, objectLabel(o, { index, question: question.get(o.turnId) ?? null, nth }));
  });
  return names;
}
