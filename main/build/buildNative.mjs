// Builds native-models/ortbinding/vantage_ort.cc → dist/native/vantage_ort.node: the IO-binding addon over the
// onnxruntime 1.29 C/C++ API, linked against onnxruntime-node's own libonnxruntime.so.1.
//
// Headers: $VANTAGE_ORT_INCLUDE (the CUDA kit's include/), else a cache under node_modules/.cache, else fetched once
// from the npm registry (com.github.asus4.onnxruntime@0.4.9 ships the ORT 1.29 headers; its tarball is checked
// against the pinned sha512 before anything is extracted). Node headers: beside this node, /usr/include/node or
// $npm_config_nodedir. Linux x64 only (the onnxruntime-node binaries the app ships there).
//
// The app works without the addon (the stock onnxruntime-node path); a failed build says why and stops only under
// CI=true or --required, where the tests expect it. Usage: node main/build/buildNative.mjs [--required] [--force]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const HDR_PKG = 'com.github.asus4.onnxruntime@0.4.9';
const HDR_SHA512 = 'BkzxduSZ9IkeDP6Q8lz2TFU2ie7hSSvS7ZIfzMooExoq0CNzJnuuGaUJ7IsojBgqO4ouD1jXah8OYyJbCN29Fg==';
const HDR_DIR_IN_PKG = 'package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers';
const source = path.join(root, 'native-models', 'ortbinding', 'vantage_ort.cc');
const outDir = path.join(root, 'dist', 'native');
const outFile = path.join(outDir, 'vantage_ort.node');
const required = process.argv.includes('--required') || process.env.CI === 'true';
const force = process.argv.includes('--force');

function fail(msg) {
  if (required) {
    console.error(`native addon: ${msg}`);
    process.exit(1);
  }
  console.warn(`native addon not built (${msg}); inference uses the stock onnxruntime-node path`);
  process.exit(0);
}

function ortHeaders() {
  const given = process.env.VANTAGE_ORT_INCLUDE;
  if (given && existsSync(path.join(given, 'onnxruntime_cxx_api.h'))) return given;
  const cache = path.join(root, 'node_modules', '.cache', 'vantage-ort-headers', '0.4.9');
  if (existsSync(path.join(cache, 'onnxruntime_cxx_api.h'))) return cache;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vantage-ort-hdr-'));
  try {
    const t0 = Date.now();
    const pack = spawnSync('npm', ['pack', '--silent', HDR_PKG, '--pack-destination', tmp], { encoding: 'utf8' });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (pack.status !== 0 || !tgz) fail(`could not fetch ${HDR_PKG} for the onnxruntime headers: ${(pack.stderr || '').trim().split('\n').pop()}`);
    const file = path.join(tmp, tgz);
    const digest = createHash('sha512').update(readFileSync(file)).digest('base64');
    if (digest !== HDR_SHA512) fail(`${tgz} does not match the pinned sha512 (got ${digest.slice(0, 16)}…)`);
    const x = spawnSync('tar', ['xzf', file, '-C', tmp, '--wildcards', `${HDR_DIR_IN_PKG}/*.h`], { encoding: 'utf8' });
    if (x.status !== 0) fail(`could not extract the headers: ${x.stderr.trim()}`);
    mkdirSync(path.dirname(cache), { recursive: true });
    rmSync(cache, { recursive: true, force: true });
    renameSync(path.join(tmp, HDR_DIR_IN_PKG), cache);
    console.log(`onnxruntime 1.29 headers fetched from ${HDR_PKG} in ${Date.now() - t0} ms`);
    return cache;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function nodeHeaders() {
  const candidates = [
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    process.env.npm_config_nodedir ? path.join(process.env.npm_config_nodedir, 'include', 'node') : '',
  ];
  const found = candidates.find((d) => d && existsSync(path.join(d, 'node_api.h')));
  if (!found) fail(`Node's headers (node_api.h) not found in ${candidates.filter(Boolean).join(', ')}`);
  return found;
}

if (process.platform !== 'linux' || process.arch !== 'x64') fail(`only linux-x64 is built, this is ${process.platform}-${process.arch}`);
const ortLibDir = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', 'linux', 'x64');
if (!existsSync(path.join(ortLibDir, 'libonnxruntime.so.1'))) fail(`libonnxruntime.so.1 not found in ${ortLibDir}`);
const addonApi = require('node-addon-api').include_dir;
const ortInc = ortHeaders();
const nodeInc = nodeHeaders();

// rebuild only when the source, the compiler line or the library changed
const rpath = `$ORIGIN/${path.relative(outDir, ortLibDir)}`;
const args = [
  '-O2', '-std=c++17', '-fPIC', '-shared', '-Wall', '-Wno-unused-function',
  '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeInc}`, `-I${path.join(root, addonApi)}`, `-I${ortInc}`,
  source, '-o', `${outFile}.tmp`,
  `-L${ortLibDir}`, '-l:libonnxruntime.so.1', `-Wl,-rpath,${rpath}`, '-ldl',
];
const stamp = createHash('sha256')
  .update(readFileSync(source))
  .update(args.join(' '))
  .update(String(statSync(path.join(ortLibDir, 'libonnxruntime.so.1')).size))
  .digest('hex');
const stampFile = `${outFile}.stamp`;
if (!force && existsSync(outFile) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  console.log('native addon up to date → dist/native/vantage_ort.node');
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const t0 = Date.now();
const cc = spawnSync(process.env.CXX || 'g++', args, { encoding: 'utf8' });
if (cc.error) fail(`no C++ compiler (${cc.error.message})`);
if (cc.status !== 0) fail(`g++ failed:\n${cc.stderr}`);
renameSync(`${outFile}.tmp`, outFile);
writeFileSync(stampFile, stamp);
console.log(`native addon built in ${Date.now() - t0} ms → dist/native/vantage_ort.node`);
