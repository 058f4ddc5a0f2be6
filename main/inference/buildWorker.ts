import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundles main/inference/inferenceWorker.ts to `<outDir>/inferenceWorker.mjs` (ESM, node packages left
 * external). `outDir` must lie inside the repository so node_modules (onnxruntime-node, the tokenizer)
 * resolve from the bundle at run time. Returns the bundle's path.
 */
export async function buildInferenceWorker(outDir = path.join(repoRoot, 'node_modules', '.cache', 'vantage-inference')): Promise<string> {
  const outfile = path.join(outDir, 'inferenceWorker.mjs');
  await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, 'main', 'inference', 'inferenceWorker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}
