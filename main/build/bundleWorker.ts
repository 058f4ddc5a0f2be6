import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundles one worker entry (e.g. `main/imagery/tileWorker.ts`) to `<outDir>/<name>.mjs` for tests and benchmarks,
 * the same way main/build/build.mjs bundles it into dist/main for the app. `outDir` must lie inside the repository so
 * node_modules (native modules, epsg tables) resolve from the bundle at run time.
 */
export async function bundleWorker(entry: string, outDir: string): Promise<string> {
  const name = path.basename(entry, '.ts');
  const outfile = path.join(outDir, `${name}.mjs`);
  await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(repoRoot, entry)],
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

/** A per-purpose cache folder under node_modules/.cache (inside the repository, git-ignored). */
export const workerCacheDir = (purpose: string) => path.join(repoRoot, 'node_modules', '.cache', `vantage-${purpose}`);
