// Bundles imageryBench.ts with esbuild (Node 20 cannot run TypeScript directly) and runs it: `npm run bench:imagery`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// two levels below the repo root, like main/imagery/: the bundle's import.meta.url paths (data, worker) resolve as in source
const outfile = path.join(repo, 'dist', 'bench', 'imageryBench.mjs');
// the libdeflate addon the block decoder uses when present (built by `npm run build` too)
spawnSync(process.execPath, [path.join(repo, 'main/build/buildDeflate.mjs')], { stdio: 'inherit' });
await build({ absWorkingDir: repo, entryPoints: [path.join(repo, 'main/imagery/bench/imageryBench.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
