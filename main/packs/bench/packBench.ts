import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testPackDir } from '../../inference/testPackFixtures.js';
import { bigStoredEntry, packEntries, readPack, writeZip } from './craftZip.js';
import { buildInstallChild, installInChild } from './installChildRunner.js';

/**
 * `npm run bench:packs [-- --gb 3.5]`: writes a multi-GB pack zip (the deflated test pack plus one stored file of
 * incompressible-looking bytes declared in its manifest) and installs it in a child process; reports the install's
 * peak RSS and throughput. Needs about 2 × the zip size free in the temp folder (the zip and the installed copy).
 */
const gbArg = process.argv.indexOf('--gb');
const gb = gbArg > 0 ? Number(process.argv[gbArg + 1]) : 3.5;
const bigBytes = Math.floor(gb * 1e9);
if (!(bigBytes > 0 && bigBytes < 2 ** 32 - (64 << 20))) throw new Error('--gb must be above 0 and below 4.2 (the bench writes no Zip64)');

const root = mkdtempSync(path.join(process.env.VANTAGE_BENCH_DIR ?? tmpdir(), 'vantage-pack-bench-'));
try {
  const fs = await statfs(root);
  const free = fs.bavail * fs.bsize;
  if (free < 2.2 * bigBytes) throw new Error(`needs ${((2.2 * bigBytes) / 1e9).toFixed(1)} GB free in ${root}; ${(free / 1e9).toFixed(1)} GB are`);
  const child = await buildInstallChild();
  const p = readPack(testPackDir, '99.0.0-bench');
  let t = performance.now();
  const { entry, sha256 } = bigStoredEntry('pack/decoder.onnx.data', bigBytes);
  p.manifest.files['decoder.onnx.data'] = sha256;
  p.manifest.sizes!['decoder.onnx.data'] = bigBytes;
  const zip = path.join(root, 'bench-pack.zip');
  writeZip(zip, [...packEntries(p), entry]);
  const zipBytes = statSync(zip).size;
  console.log(`generated ${zip}: ${(zipBytes / 1e9).toFixed(2)} GB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const dataDir = path.join(root, 'data');
  mkdirSync(dataDir);
  t = performance.now();
  const r = await installInChild(child, dataDir, zip, 30 * 60_000);
  if (!r.ok) throw new Error(`install failed: ${r.error}`);
  const mbps = zipBytes / 1e6 / (r.ms / 1000);
  const result = {
    zipGB: +(zipBytes / 1e9).toFixed(2),
    installSeconds: +(r.ms / 1000).toFixed(1),
    MBps: Math.round(mbps),
    rssBeforeMB: Math.round(r.baseKiB / 1024),
    peakRssMB: Math.round(r.peakKiB / 1024),
    peakOverBaselineMB: Math.round((r.peakKiB - r.baseKiB) / 1024),
    writtenGB: r.writtenBytes === null ? null : +(r.writtenBytes / 1e9).toFixed(2),
  };
  console.log(`installed ${r.name} from a ${result.zipGB} GB zip in ${result.installSeconds} s (${result.MBps} MB/s, sha256 included); peak RSS ${result.peakRssMB} MB (${result.rssBeforeMB} MB before the install, +${result.peakOverBaselineMB} MB)`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(root, { recursive: true, force: true });
}
