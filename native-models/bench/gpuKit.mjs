// Prepares everything a GPU session carries to the device machine (which has CUDA and Python but no Node and no
// network), into .gpukit/ (git-ignored):
//   kit/kit.tar.xz.partNN + kit/unpack.sh   node + onnxruntime-node 1.29 + the CUDA 13 provider + ORT headers
//                                          (../shared/gpu/make-cuda-kit.sh; parts of ≤ 52 MB, one per call)
//   app.tar.xz                             what the checkout lacks there: dist/main (bundles), dist/native (the
//                                          IO-binding addon), the production node_modules except onnxruntime
//                                          (the kit brings it), and a real GeoTIFF for `vantage ask`
// Then, on the device, native-models/bench/gpu-session.sh does the rest in one call (see its header).
// usage: node native-models/bench/gpuKit.mjs [--image FILE]   (after npm run build)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(repo, '.gpukit');
const die = (msg) => {
  console.error(`gpuKit: ${msg}`);
  process.exit(1);
};
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed`);
};

for (const f of ['dist/main/cli.mjs', 'dist/main/inferenceWorker.mjs', 'dist/native/vantage_ort.node']) {
  if (!existsSync(path.join(repo, f))) die(`${f} missing: run npm run build first`);
}
mkdirSync(out, { recursive: true });

// 1. the CUDA kit (once: it is large and changes only with the pinned versions)
const kitDir = path.join(out, 'kit');
if (!existsSync(kitDir) || !readdirSync(kitDir).some((f) => f.startsWith('kit.tar.xz.part'))) {
  const script = path.resolve(repo, '..', 'shared', 'gpu', 'make-cuda-kit.sh');
  if (!existsSync(script)) die(`${script} not found (../shared beside the checkout)`);
  run('bash', [script, kitDir]);
}

// 2. the app tarball: dist + production node_modules without onnxruntime (from the kit) and without build sources
const stage = path.join(out, 'app');
rmSync(stage, { recursive: true, force: true });
mkdirSync(path.join(stage, 'dist'), { recursive: true });
cpSync(path.join(repo, 'dist', 'main'), path.join(stage, 'dist', 'main'), { recursive: true });
cpSync(path.join(repo, 'dist', 'native'), path.join(stage, 'dist', 'native'), { recursive: true });
run(process.execPath, [path.join(repo, 'native-models', 'bench', 'runBench.mjs'), '--bundle-only', path.join(stage, 'dist', 'bench', 'gpuBench.mjs')]);
const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repo, encoding: 'utf8' });
const skip = new Set(['onnxruntime-node', 'onnxruntime-common']);
const mods = [...new Set(ls.stdout.split('\n').filter((l) => l.includes(`${path.sep}node_modules${path.sep}`)))]
  .map((l) => path.relative(repo, l))
  .filter((rel) => !skip.has(rel.split('node_modules/').pop()));
for (const rel of mods) {
  cpSync(path.join(repo, rel), path.join(stage, rel), {
    recursive: true,
    // sqlite's C sources and intermediate objects are build inputs, not run-time files
    filter: (src) => !/better-sqlite3\/(deps|src)(\/|$)|\/build\/Release\/obj(\.target)?(\/|$)/.test(src),
  });
}
const imageArg = process.argv.indexOf('--image');
const image = imageArg > 0 ? process.argv[imageArg + 1] : path.resolve(repo, '..', 'shared', 'data', 'imagery', 'optical_utm', 'RGB.byte.tif');
if (image && existsSync(image)) {
  mkdirSync(path.join(stage, 'fixtures'), { recursive: true });
  cpSync(image, path.join(stage, 'fixtures', path.basename(image)));
} else {
  console.warn(`no image to carry (${image}); gpu-session.sh will skip vantage ask`);
}
run('bash', ['-c', `tar cf - -C "${stage}" . | xz -T0 -6 > "${path.join(out, 'app.tar.xz')}"`]);
rmSync(stage, { recursive: true, force: true });
const mb = (f) => (statSync(f).size / 2 ** 20).toFixed(1);
console.log(`\n.gpukit ready:`);
for (const f of readdirSync(kitDir).sort()) console.log(`  kit/${f}  ${mb(path.join(kitDir, f))} MiB`);
console.log(`  app.tar.xz  ${mb(path.join(out, 'app.tar.xz'))} MiB`);
console.log('carry one part per call (each call ≤ 64 MiB with the checkout), copying it to /tmp/gk; then run gpu-session.sh');
