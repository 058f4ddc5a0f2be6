/** Resource inputs are flat records of strings and numbers; key order is fixed so equal inputs give equal (cacheable) URLs. */
export function resourceQuery(input: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const key of Object.keys(input).sort()) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    params.set(key, String(v));
  }
  return params.toString();
}
