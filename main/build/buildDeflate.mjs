// Builds native-models/deflate/vantage_deflate.c → dist/native/vantage_deflate.node: DEFLATE inflate through
// libdeflate for the TIFF block decoder (main/imagery/fastInflate.ts). libdeflate is opened at run time, so the build
// needs only a C compiler and Node's headers (beside this node, /usr/include/node or $npm_config_nodedir). Optional:
// without it (or without libdeflate.so.0) block decoding uses node:zlib; a failed build says why and exits 0.
// Usage: node main/build/buildDeflate.mjs [--force]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const source = path.join(root, 'native-models', 'deflate', 'vantage_deflate.c');
const outDir = path.join(root, 'dist', 'native');
const outFile = path.join(outDir, 'vantage_deflate.node');

function skip(msg) {
  console.warn(`deflate addon not built (${msg}); TIFF blocks inflate with node:zlib`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`only Linux is built, this is ${process.platform}`);
const nodeInc = [
  path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  process.env.npm_config_nodedir ? path.join(process.env.npm_config_nodedir, 'include', 'node') : '',
].find((d) => d && existsSync(path.join(d, 'node_api.h')));
if (!nodeInc) skip("Node's headers (node_api.h) not found");
const args = ['-O3', '-fPIC', '-shared', '-Wall', '-DNAPI_VERSION=8', `-I${nodeInc}`, source, '-o', `${outFile}.tmp`, '-ldl', '-lpthread'];
const stamp = createHash('sha256').update(readFileSync(source)).update(args.join(' ')).digest('hex');
const stampFile = `${outFile}.stamp`;
if (!process.argv.includes('--force') && existsSync(outFile) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  console.log('deflate addon up to date → dist/native/vantage_deflate.node');
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const t0 = Date.now();
const cc = spawnSync(process.env.CC || 'cc', args, { encoding: 'utf8' });
if (cc.error) skip(`no C compiler (${cc.error.message})`);
if (cc.status !== 0) skip(`the compiler failed:\n${cc.stderr}`);
renameSync(`${outFile}.tmp`, outFile);
writeFileSync(stampFile, stamp);
console.log(`deflate addon built in ${Date.now() - t0} ms → dist/native/vantage_deflate.node`);
