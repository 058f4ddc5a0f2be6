/**
 * Names a case gets without the analyst typing one, readable and distinct in the case list (which truncates long
 * names): "Case 14:02, 6 Dec" when made, then — at its first image — the image's name first, so cases made on the
 * same day no longer read the same: "RGB.byte · 14:02, 6 Dec" (the list shows the year beside it). A name the
 * analyst typed is never changed; a name already taken gets seconds or a number.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** "14:02, 6 Dec" (local time); with seconds when asked */
export function caseTime(d: Date, seconds = false): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}, ${d.getDate()} ${MONTHS[d.getMonth()]}`;
}

/** `name`, or `name (2)`, `name (3)`… : the first not in `taken` */
export function distinctName(name: string, taken: readonly string[]): string {
  const used = new Set(taken);
  if (!used.has(name)) return name;
  for (let k = 2; ; k++) if (!used.has(`${name} (${k})`)) return `${name} (${k})`;
}

/** A new case's name: "Case 14:02, 6 Dec"; with seconds, then a number, when that is already a case's name. */
export function defaultCaseName(now = new Date(), taken: readonly string[] = []): string {
  const plain = `Case ${caseTime(now)}`;
  return taken.includes(plain) ? distinctName(`Case ${caseTime(now, true)}`, taken) : plain;
}

const DEFAULT = [
  /^Case \d{2}:\d{2}(:\d{2})?, \d{1,2} [A-Z][a-z]{2}( \(\d+\))?$/,
  // the names earlier versions gave ("Case 2026-12-06 14:02")
  /^Case \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/,
];

/** a name Vantage made up (defaultCaseName, or an earlier version's), not one the analyst typed */
export function isDefaultCaseName(name: string): boolean {
  return DEFAULT.some((re) => re.test(name));
}

/** The name of a case after its first image: "RGB.byte · 14:02, 6 Dec" (the file name without its extension). */
export function caseNameForImage(imageName: string, created: Date, taken: readonly string[] = []): string {
  const base = imageName.split(/[\\/]/).pop() ?? imageName;
  const stem = (base.replace(/\.(tiff?|png|jpe?g|jp2|img|vrt|ntf)$/i, '') || base).slice(0, 120);
  return distinctName(`${stem} · ${caseTime(created)}`, taken);
}
