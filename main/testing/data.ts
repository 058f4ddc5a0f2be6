import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The one setting that locates shared test data: VANTAGE_DATA, default ../shared/data beside the repo. */
export function dataRoot(): string {
  return path.resolve(process.env.VANTAGE_DATA ?? path.join(repoRoot, '..', 'shared', 'data'));
}

/** Absolute path of a file under the data root, or null when the data set is absent. */
export function dataPath(rel: string): string | null {
  const p = path.join(dataRoot(), rel);
  return existsSync(p) ? p : null;
}

/**
 * A describe block that needs shared data: skipped with a clear reason locally when the data is absent,
 * failing under CI (CI=true), where the data must be present.
 */
export function describeWithData(name: string, rels: string[], body: (paths: string[]) => void): void {
  const found = rels.map(dataPath);
  const missing = rels.filter((_, i) => found[i] === null);
  if (missing.length === 0) {
    describe(name, () => body(found as string[]));
    return;
  }
  const why = `test data missing under ${dataRoot()} (set VANTAGE_DATA): ${missing.join(', ')}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`${why} — CI must have ../shared/data`);
    });
  } else {
    console.warn(`[skip] ${name}: ${why}`);
    describe.skip(`${name} (skipped: ${why})`, () => body([]));
  }
}

export { repoRoot };
