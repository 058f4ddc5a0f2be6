import { describe } from 'vitest';
import { dataRequired, findData } from './dataRoot.js';

export { dataPath, dataRoot, repoRoot } from './dataRoot.js';

/**
 * A describe block that needs something the machine may lack (`missing`: null when present, else the one-line
 * reason): skipped with that reason locally, failing under CI (CI=true), where everything must be present.
 */
export function describeRequiring(name: string, missing: string | null, body: () => void): void {
  if (missing === null) {
    describe(name, body);
  } else if (dataRequired()) {
    describe(name, () => {
      throw new Error(`${missing} — required under CI (CI=true)`);
    });
  } else {
    console.warn(`[skip] ${name}: ${missing}`);
    describe.skip(`${name} (skipped: ${missing})`, body);
  }
}

/** A describe block that needs shared data (paths under dataRoot()); see describeRequiring. */
export function describeWithData(name: string, rels: string[], body: (paths: string[]) => void): void {
  const { paths, missing } = findData(rels);
  describeRequiring(name, missing, () => body(missing === null ? paths : []));
}
