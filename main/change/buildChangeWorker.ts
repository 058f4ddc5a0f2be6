import { bundleWorker, workerCacheDir } from '../build/bundleWorker.js';

/** Bundles the change worker for tests (the app uses dist/main/changeWorker.mjs from build.mjs). */
export const buildChangeWorker = (outDir = workerCacheDir('change')): Promise<string> => bundleWorker('main/change/changeWorker.ts', outDir);
