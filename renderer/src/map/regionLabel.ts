/**
 * How a region is named to the user: the same "<region k>" the model sees. Stored labels may be "1", "region1"
 * or already "<region 1>", so all three normalise to one spelling.
 */
export function regionLabelText(label: string): string {
  const t = label.trim();
  if (t.startsWith('<') && t.endsWith('>')) return t;
  const m = /^(?:region\s*)?(\d+)$/i.exec(t);
  return m ? `<region ${m[1]}>` : `<${t}>`;
}
