import { bundleWorker, workerCacheDir } from '../build/bundleWorker.js';

/** Bundles the tile worker for tests and benchmarks (the app uses dist/main/tileWorker.mjs from build.mjs). */
export const buildTileWorker = (outDir = workerCacheDir('imagery')): Promise<string> => bundleWorker('main/imagery/tileWorker.ts', outDir);
