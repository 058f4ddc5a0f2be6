import { GEOCHAT_BOX, GEOCHAT_BOX_PARTIAL_TAIL } from '../../../main/contract/geochatBoxes.js';
import { cleanModelText, stripModelTokens } from '../../../main/contract/modelText.js';

/** A piece of assistant text: plain prose, a grounded phrase (<p>…</p>) or a <SEG> mask marker. */
export type AnswerPart =
  | { kind: 'text'; text: string }
  | { kind: 'phrase'; text: string }
  | { kind: 'seg'; index: number };

/** `<p>`, `</p>`, `<SEG>`, or one of GeoChat's answer boxes (`{<x0><y0><x1><y1>|<θ>}`: an object, like a `<SEG>`) */
const TOKEN = new RegExp(`<p>|<\\/p>|<SEG>|${GEOCHAT_BOX.source}`, 'g');

/**
 * Splits streamed assistant text into parts. Works on partial text: an unclosed <p> still shows as a phrase,
 * and the n-th <SEG> or answer box (0-based) refers to the n-th mask of the turn.
 */
export function parseAnswer(text: string): AnswerPart[] {
  const parts: AnswerPart[] = [];
  let inPhrase = false;
  let segs = 0;
  let last = 0;
  const flush = (end: number) => {
    // the one clean-text function's rules (main/contract/modelText.ts): other special tokens go, regions read `<region k>`
    const piece = text.slice(last, end);
    const t = inPhrase ? cleanModelText(piece) : stripModelTokens(piece).replace(/[ \t]{2,}/g, ' ');
    if (!t || (inPhrase && !t.trim())) return;
    const prev = parts[parts.length - 1];
    const kind = inPhrase ? 'phrase' : 'text';
    if (prev && prev.kind === kind) prev.text += kind === 'phrase' ? ` ${t}` : t;
    else parts.push({ kind, text: t });
  };
  for (const m of text.matchAll(TOKEN)) {
    flush(m.index);
    last = m.index + m[0].length;
    if (m[0] === '<p>') inPhrase = true;
    else if (m[0] === '</p>') inPhrase = false;
    else parts.push({ kind: 'seg', index: segs++ });
  }
  // a tag still arriving ("<SE") or a box still arriving ("{<12><3") is not shown as text
  const tail = text.slice(last);
  const partial = /<\/?[A-Za-z]{0,3}$/.exec(tail) ?? GEOCHAT_BOX_PARTIAL_TAIL.exec(tail);
  flush(partial ? last + partial.index : text.length);
  return parts;
}
