/**
 * Model output as the analyst reads it, the same in the chat, the compare caption, the PDF and the GeoJSON / GeoPackage
 * attributes: grounded-phrase markup (`<p> … </p>`) keeps its phrase, `<SEG>` and the other special tokens of a chat
 * template (`<s>`, `</s>`, `<image>`, `<|…|>`, …) go, region tokens are written as the user sees them (`<region 1>`),
 * and whitespace left behind is collapsed. Plain angle brackets ("3 < 4", "a <-> b") are left alone. GeoChat's answer
 * boxes (`{<x0><y0><x1><y1>|<θ>}`, geochatBoxes.ts) go too: each becomes an object on the map, named by its phrase.
 */
import { GEOCHAT_BOX_PARTIAL_TAIL, stripGeochatBoxes } from './geochatBoxes.js';

/** a region token (`<region1>`, `<region 1>`, `<region_1>`: group 1 is k) or any other special token: a tag with no
 * spaces inside, e.g. <SEG>, </s>, <image>, <|im_end|>, <p>, </p>, <optical> */
const TOKEN = /<\s*region[\s_]*(\d+)\s*>|<\/?\|?[A-Za-z_][\w.:|-]*\|?>/gi;
/** a tag still arriving at the end of streamed text ("<SE", "</", "<p") */
const PARTIAL_TAIL = /<\/?[|A-Za-z_][\w|]{0,8}$/;

/** How region k is written for the user. */
export function regionTokenText(k: number | string): string {
  return `<region ${k}>`;
}

/** Removes special tokens (but not region tokens), keeping the text around them; does not touch whitespace. */
export function stripModelTokens(raw: string): string {
  return raw.replace(TOKEN, (_, k: string | undefined) => (k === undefined ? ' ' : regionTokenText(k)));
}

/** Collapses spaces left by removed tokens: runs of blanks, blanks before punctuation, blank lines, ends. */
export function tidySpaces(s: string): string {
  return s
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').replace(/ ([.,;:!?)\]])/g, '$1').replace(/([([]) /g, '$1').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The one clean-text function for model output shown or written anywhere (see the module comment). */
export function cleanModelText(raw: string | null | undefined): string {
  if (!raw) return '';
  const boxTail = GEOCHAT_BOX_PARTIAL_TAIL.exec(raw);
  const whole = boxTail ? raw.slice(0, boxTail.index) : raw;
  const tail = PARTIAL_TAIL.exec(whole);
  const text = tail ? whole.slice(0, tail.index) : whole;
  return tidySpaces(stripModelTokens(stripGeochatBoxes(text)));
}
