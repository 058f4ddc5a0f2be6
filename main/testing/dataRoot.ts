import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where shared test data lives and what a test does when it is absent — one policy for every runner (vitest through
 * ./data.ts, Playwright through e2e/data.ts): skipped with the reason locally, failing under CI (CI=true).
 * No test runner is imported here, so both can load it.
 */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The one setting that locates shared test data: VANTAGE_DATA, default ../shared/data beside the repo. */
export function dataRoot(): string {
  return path.resolve(process.env.VANTAGE_DATA ?? path.join(repoRoot, '..', 'shared', 'data'));
}

/** Absolute path of a file under the data root, or null when the data set is absent. */
export function dataPath(rel: string): string | null {
  const p = path.join(dataRoot(), rel);
  return existsSync(p) ? p : null;
}

/** CI must have the data: there a missing file fails the tests instead of skipping them. */
export const dataRequired = (): boolean => process.env.CI === 'true';

/** The absolute paths of `rels`, and when some are absent the one-line reason naming them (null when all are there). */
export function findData(rels: string[]): { paths: string[]; missing: string | null } {
  const absent = rels.filter((rel) => dataPath(rel) === null);
  return {
    paths: rels.map((rel) => path.join(dataRoot(), rel)),
    missing: absent.length ? `test data missing under ${dataRoot()} (set VANTAGE_DATA): ${absent.join(', ')}` : null,
  };
}
