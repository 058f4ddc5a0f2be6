import { test } from '@playwright/test';
import { dataRequired, findData } from '../main/testing/dataRoot.js';

/**
 * The data guard of every e2e spec (the policy of main/testing/dataRoot.ts): the absolute paths of the shared test
 * files `rels`. When one is absent, under CI (CI=true) it throws, failing the spec (called at its top level) or the
 * test (called inside one); locally it skips them with a message naming the missing files.
 */
export function requireData(...rels: string[]): string[] {
  const { paths, missing } = findData(rels);
  if (missing === null) return paths;
  if (dataRequired()) throw new Error(`${missing} — CI must have ../shared/data`);
  console.warn(`[skip] ${missing}`);
  test.skip(true, missing);
  return paths;
}
