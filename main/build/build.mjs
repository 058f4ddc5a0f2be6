// Builds everything `npm start`, the CLI and the tests run: backend bundles (esbuild) and the renderer (Vite).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'dist', 'main');
const only = process.argv.includes('--backend-only') ? 'backend' : null;
rmSync(out, { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  packages: 'external', // node_modules resolve at run time (native modules, epsg tables)
  logLevel: 'warning',
};
const started = Date.now();
await Promise.all([
  build({
    ...common,
    format: 'esm',
    entryPoints: {
      cli: 'main/cli/vantage.ts',
      inferenceWorker: 'main/inference/inferenceWorker.ts',
      webgpuProbe: 'main/inference/webgpuProbeChild.ts',
      tileWorker: 'main/imagery/tileWorker.ts',
      changeWorker: 'main/change/changeWorker.ts',
      caseReader: 'main/cases/caseFileReader.ts',
      electronMain: 'main/app/electronMain.ts',
    },
    outdir: out,
    outExtension: { '.js': '.mjs' },
  }),
  // a sandboxed preload must be CommonJS
  build({ ...common, format: 'cjs', entryPoints: { preload: 'main/app/preload.ts' }, outdir: out, outExtension: { '.js': '.cjs' } }),
]);
console.log(`backend built in ${Date.now() - started} ms → dist/main`);

if (only !== 'backend') {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log('renderer built → dist/renderer');
}

// libdeflate for TIFF blocks (optional: node:zlib without it)
spawnSync(process.execPath, [path.join(root, 'main', 'build', 'buildDeflate.mjs')], { cwd: root, stdio: 'inherit' });

// the IO-binding addon (optional for the app; required under CI, where its tests run)
const native = spawnSync(process.execPath, [path.join(root, 'main', 'build', 'buildNative.mjs')], { cwd: root, stdio: 'inherit' });
if (native.status !== 0) process.exit(native.status ?? 1);
