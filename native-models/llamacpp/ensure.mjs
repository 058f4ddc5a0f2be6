// Installs llama.cpp's Node binding (node-llama-cpp, pinned) into this folder when it is missing, so the
// comparisons in issue 14/16 can run it without the app's own `npm ci` carrying it. Other platforms' prebuilt
// binaries (optional dependencies, ≈ 650 MB) are left out; the linux-x64 CPU binary is a direct dependency.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const LLAMACPP_DIR = path.dirname(fileURLToPath(import.meta.url));
export const NODE_LLAMA_CPP_VERSION = JSON.parse(fs.readFileSync(path.join(LLAMACPP_DIR, 'package.json'), 'utf8')).dependencies['node-llama-cpp'];

function installedVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(LLAMACPP_DIR, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Installs when missing or at another version; returns the package folder. Throws with npm's own output. */
export function ensureNodeLlamaCpp({ quiet = false } = {}) {
  if (installedVersion() === NODE_LLAMA_CPP_VERSION && fs.existsSync(path.join(LLAMACPP_DIR, 'node_modules', '@node-llama-cpp', 'linux-x64'))) {
    return path.join(LLAMACPP_DIR, 'node_modules', 'node-llama-cpp');
  }
  if (!quiet) process.stderr.write(`installing node-llama-cpp@${NODE_LLAMA_CPP_VERSION} (linux-x64 CPU binary only) into ${LLAMACPP_DIR}\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: LLAMACPP_DIR,
    encoding: 'utf8',
    env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
  });
  if (r.status !== 0) throw new Error(`npm ci in ${LLAMACPP_DIR} failed (${r.status}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
  if (installedVersion() !== NODE_LLAMA_CPP_VERSION) throw new Error(`node-llama-cpp@${NODE_LLAMA_CPP_VERSION} did not install into ${LLAMACPP_DIR}`);
  return path.join(LLAMACPP_DIR, 'node_modules', 'node-llama-cpp');
}

/** Imports node-llama-cpp (installing it first when needed). */
export async function importNodeLlamaCpp() {
  const dir = ensureNodeLlamaCpp();
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const entry = typeof pkg.exports === 'object' ? (pkg.exports['.']?.import ?? pkg.exports['.']?.default ?? pkg.main) : pkg.main;
  return import(pathToFileURL(path.join(dir, typeof entry === 'string' ? entry : 'dist/index.js')).href);
}

/** The llama.cpp release the binding was built from (its own info file), e.g. `b7xxx`. */
export function llamaCppRelease() {
  const info = JSON.parse(fs.readFileSync(path.join(ensureNodeLlamaCpp({ quiet: true }), 'llama', 'llama.cpp.info.json'), 'utf8'));
  return { tag: info.tag, repo: info.llamaCppGithubRepo, nodeLlamaCpp: NODE_LLAMA_CPP_VERSION };
}

/**
 * Clones the llama.cpp source bundled in the package (convert_hf_to_gguf.py, gguf-py) into `dest` once; returns it.
 */
export function llamaCppSource(dest) {
  if (fs.existsSync(path.join(dest, 'convert_hf_to_gguf.py'))) return dest;
  const bundle = path.join(ensureNodeLlamaCpp({ quiet: true }), 'llama', 'gitRelease.bundle');
  const r = spawnSync('git', ['clone', '-q', bundle, dest], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git clone of ${bundle} failed: ${r.stderr}`);
  return dest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureNodeLlamaCpp();
  console.log(JSON.stringify(llamaCppRelease()));
}
