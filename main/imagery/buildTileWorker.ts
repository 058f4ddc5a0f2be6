import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundles main/imagery/tileWorker.ts to `<outDir>/tileWorker.mjs` for tests and benchmarks (the app uses
 * dist/main/tileWorker.mjs from build.mjs). `outDir` must lie inside the repository so node_modules resolve.
 */
export async function buildTileWorker(outDir = path.join(repoRoot, 'node_modules', '.cache', 'vantage-imagery')): Promise<string> {
  const outfile = path.join(outDir, 'tileWorker.mjs');
  await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, 'main', 'imagery', 'tileWorker.ts')],
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
