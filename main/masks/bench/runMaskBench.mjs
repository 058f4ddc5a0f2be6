// Bundles the mask-quality benchmark with esbuild (Node 20 cannot run TypeScript directly) and runs it:
//   npm run bench:masks [-- --pack DIR] [-- --out FILE]   box-prompted masks vs the labelled objects in ../shared/data/labelled/seg
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// two levels below the repo root, like main/masks/: the bundle's import.meta.url paths (data, worker build) resolve as in source
const outfile = path.join(repo, 'dist', 'bench', 'maskQualityBench.mjs');
await build({ absWorkingDir: repo, entryPoints: [path.join(repo, 'main/masks/bench/maskQualityBench.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
