// Bundles a change benchmark with esbuild (Node 20 cannot run TypeScript directly) and runs it:
//   node main/change/bench/runChangeBench.mjs             event-loop responsiveness (RUNS=5 for more runs)
//   node main/change/bench/runChangeBench.mjs --quality   quality against the labelled pairs (npm run bench:change)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const quality = process.argv.includes('--quality');
const name = quality ? 'changeQualityBench' : 'changeBench';
const rest = process.argv.slice(2).filter((a) => a !== '--quality');
// two levels below the repo root, like main/change/: the bundle's import.meta.url paths (data, worker build) resolve as in source
const outfile = path.join(repo, 'dist', 'bench', `${name}.mjs`);
await build({ absWorkingDir: repo, entryPoints: [path.join(repo, `main/change/bench/${name}.ts`)], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
