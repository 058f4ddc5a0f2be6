// Bundles modelBench.ts with esbuild (Node 20 cannot run TypeScript directly) and runs it: `npm run bench:model`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outfile = path.join(repo, 'node_modules', '.cache', 'vantage-bench', 'modelBench.mjs');
await build({ absWorkingDir: repo, entryPoints: [path.join(repo, 'native-models/bench/modelBench.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, VANTAGE_REPO: repo } });
process.exit(r.status ?? 1);
