// Bundles gpuBench.ts with esbuild (Node 20 cannot run TypeScript directly) and runs it: `npm run bench:gpu`.
// `--bundle-only FILE` writes the bundle there and stops (gpuKit.mjs carries it to the GPU machine, which has no npm).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const only = process.argv.indexOf('--bundle-only');
const outfile = only > 0 ? path.resolve(process.argv[only + 1]) : path.join(repo, 'node_modules', '.cache', 'vantage-bench', 'gpuBench.mjs');
await build({ absWorkingDir: repo, entryPoints: [path.join(repo, 'native-models/bench/gpuBench.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
if (only > 0) process.exit(0);
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, VANTAGE_REPO: repo } });
process.exit(r.status ?? 1);
