import type { ChangeStats } from '../contract/calls/change.js';

/**
 * How a change analysis is written into a case (a user turn naming both images, an assistant turn with the
 * figures) and read back for reports and exports. Both directions live here so the text and its parser cannot drift:
 * the case database keeps no other record of which image was the "after" one.
 */
export interface ChangeSide {
  name: string;
  date: string | null;
  imageId: string;
}

/** What a report can recover from the stored turns. */
export interface ChangeRecord {
  before: ChangeSide;
  after: ChangeSide;
  method: string;
  overlapM2: number | null;
  overlapPx: number | null;
  overlapPctOfA: number | null;
  overlapPctOfB: number | null;
  offsetPx: [number, number] | null;
  threshold: number | null;
  changedM2: number | null;
  polygonCount: number | null;
}

const side = (s: ChangeSide) => `${s.name} (${s.date ?? 'date unknown'}, image ${s.imageId})`;

export function changeQuestion(before: ChangeSide, after: ChangeSide): string {
  return `Change analysis: ${side(before)} → ${side(after)}`;
}

const QUESTION = /^Change analysis: (.+) \(([^,()]+), image ([^()\s]+)\) → (.+) \(([^,()]+), image ([^()\s]+)\)$/;

export function parseChangeQuestion(text: string): { before: ChangeSide; after: ChangeSide } | null {
  const m = QUESTION.exec(text.trim());
  if (!m) return null;
  const date = (d: string) => (d === 'date unknown' ? null : d);
  return {
    before: { name: m[1]!, date: date(m[2]!), imageId: m[3]! },
    after: { name: m[4]!, date: date(m[5]!), imageId: m[6]! },
  };
}

/** m² stated exactly (a report re-reads it), with hectares for the reader. */
function area(m2: number | null, px: number): string {
  return m2 !== null ? `${Math.round(m2)} m² (${(m2 / 1e4).toFixed(2)} ha)` : `${px} px`;
}

export function changeAnswer(imageAName: string, s: ChangeStats): string {
  return (
    `${s.method === 'cva' ? 'Change-vector analysis' : 'Log-ratio (dB)'}` +
    `${s.detector === 'cva-matched' ? (s.method === 'cva' ? ' of B histogram-matched to A' : ' of the dB images') + ', noise-scaled, opened/closed,' : ''}` +
    ` on ${imageAName}'s grid (${s.alignment.mode}` +
    `${s.alignment.crs ? `, ${s.alignment.crs}` : ''}): overlap ${area(s.overlap.m2, s.overlap.px)} ` +
    `(${s.overlap.pctOfA.toFixed(1)}% of A, ${s.overlap.pctOfB.toFixed(1)}% of B)` +
    (s.offset ? `, residual offset ${s.offset.dxPx.toFixed(2)}, ${s.offset.dyPx.toFixed(2)} px` : ', residual offset not measurable') +
    `; ${s.polygonCount} changed area(s), ${area(s.changedM2, s.changedPx)} in all ` +
    `(${s.changedPctOfOverlap.toFixed(1)}% of the overlap; Otsu threshold ${s.threshold.toFixed(3)}).` +
    (s.alignment.warnings.length ? ` Warnings: ${s.alignment.warnings.join('; ')}.` : '')
  );
}

const num = (re: RegExp, text: string, i = 1): number | null => {
  const m = re.exec(text);
  return m ? Number(m[i]) : null;
};

/** Reads the figures back from the answer; a figure the text lacks (older answers: hectares only) is null or rounded. */
export function parseChangeRecord(question: string, answer: string): ChangeRecord | null {
  const q = parseChangeQuestion(question);
  if (!q) return null;
  const areaOf = (label: 'overlap' | 'changed'): { m2: number | null; px: number | null } => {
    const re = label === 'overlap' ? /overlap (\d+) m²|overlap ([\d.]+) ha|overlap (\d+) px/ : /changed area\(s\), (?:(\d+) m²|([\d.]+) ha|(\d+) px)/;
    const m = re.exec(answer);
    if (!m) return { m2: null, px: null };
    if (m[1] !== undefined) return { m2: Number(m[1]), px: null };
    if (m[2] !== undefined) return { m2: Number(m[2]) * 1e4, px: null };
    return { m2: null, px: Number(m[3]) };
  };
  const overlap = areaOf('overlap');
  const off = /residual offset (-?[\d.]+), (-?[\d.]+) px/.exec(answer);
  return {
    ...q,
    method: answer.startsWith('Log-ratio') ? 'log-ratio (dB)' : 'change-vector analysis',
    overlapM2: overlap.m2,
    overlapPx: overlap.px,
    overlapPctOfA: num(/\(([\d.]+)% of A/, answer),
    overlapPctOfB: num(/([\d.]+)% of B\)/, answer),
    offsetPx: off ? [Number(off[1]), Number(off[2])] : null,
    threshold: num(/Otsu threshold (-?[\d.]+)/, answer),
    changedM2: areaOf('changed').m2,
    polygonCount: num(/; (\d+) changed area\(s\)/, answer),
  };
}
