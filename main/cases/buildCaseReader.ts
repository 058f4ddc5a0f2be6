import { bundleWorker, workerCacheDir } from '../build/bundleWorker.js';

/** Bundles the case reader child entry for tests (the app uses dist/main/caseReader.mjs from build.mjs). */
export const buildCaseReader = (outDir = workerCacheDir('cases')): Promise<string> => bundleWorker('main/cases/caseFileReader.ts', outDir);
