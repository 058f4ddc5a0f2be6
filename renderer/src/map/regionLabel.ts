import { regionTokenText } from '../../../main/contract/modelText.js';

/**
 * How a region is named to the user: the same "<region k>" the model sees. Stored labels may be "1", "region1"
 * or already "<region 1>", so all three normalise to one spelling.
 */
export function regionLabelText(label: string): string {
  const t = label.trim();
  if (t.startsWith('<') && t.endsWith('>')) return t;
  const m = /^(?:region\s*)?(\d+)$/i.exec(t);
  return m ? regionTokenText(m[1]!) : `<${t}>`;
}

/** The region number k of a stored label ("1", "region1", "<region 1>"), or null for a free label. */
function regionIndex(label: string): number | null {
  const m = /^<?\s*(?:region\s*)?(\d+)\s*>?$/i.exec(label.trim());
  return m ? Number(m[1]) : null;
}

/**
 * Map labels for every region of the case, distinct across stored and pending ones. The model numbers regions per
 * question (`<region 1>` … of that question), so a stored region carries the question it went with ("Q2 <region 1>")
 * and a pending one the plain token the next question will send ("<region 1>").
 *
 * `stored`: the case's stored region labels in case order (question, then drawing order); `questions`: the case's
 * stored questions in order with how many regions each carried. Regions beyond what the questions account for are
 * grouped where their numbering restarts.
 */
export function caseRegionLabels(stored: string[], questions: number[], pendingCount: number): { stored: string[]; pending: string[] } {
  const out: string[] = [];
  let q = 0; // 0-based question ordinal of the next stored region
  let left = 0; // regions still to label for question q - 1
  let prevK = Infinity;
  for (const label of stored) {
    const k = regionIndex(label);
    if (left > 0) left--;
    else {
      // the next question that carried regions, else a new group where the numbering restarts
      let next = q;
      while (next < questions.length && !(questions[next]! > 0)) next++;
      if (next < questions.length) {
        q = next + 1;
        left = questions[next]! - 1;
      } else if (k === null || k <= prevK || q === 0) q = Math.max(q, questions.length) + 1;
    }
    prevK = k ?? Infinity;
    out.push(`Q${q} ${regionLabelText(label)}`);
  }
  return { stored: out, pending: Array.from({ length: pendingCount }, (_, i) => regionTokenText(i + 1)) };
}
