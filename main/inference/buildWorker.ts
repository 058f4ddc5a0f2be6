import { bundleWorker, workerCacheDir } from '../build/bundleWorker.js';

/** Bundles the inference worker for tests (the app uses dist/main/inferenceWorker.mjs from build.mjs). */
export const buildInferenceWorker = (outDir = workerCacheDir('inference')): Promise<string> =>
  bundleWorker('main/inference/inferenceWorker.ts', outDir);
