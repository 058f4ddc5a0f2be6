import { createRequire } from 'node:module';

/**
 * The mgrs package is CommonJS whose exports Node's ESM loader cannot name statically (`import { forward }`
 * fails in the bundled app), so it is required; its own type declarations still apply.
 */
const mgrs = createRequire(import.meta.url)('mgrs') as typeof import('mgrs');

export const mgrsForward = mgrs.forward;
export const mgrsInverse = mgrs.inverse;
