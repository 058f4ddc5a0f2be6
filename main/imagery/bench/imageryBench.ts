/**
 * `npm run bench:imagery [-- --size 20000 --striped 8000 --dir /tmp/vantage-imagery-bench --threads N --pairs 8 --windows-only]`
 * Prints tiles/s and p50/p95 ms per 256-px tile for a COG and a striped TIFF (tile worker pool, blocks in the OS
 * cache, every tile rendered for the first time) with the geotiff.js reader (before) and the block decoder (after),
 * and COG window read throughput next to GDAL's (in-process ReadAsArray through its Python bindings, the same
 * thread count) on the same windows of the same file: interleaved pairs, pixel hashes compared.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { dataPath } from '../../testing/data.js';
import { buildTileWorker } from '../buildTileWorker.js';
import { decodePool } from '../decodePool.js';
import { loadDeflateAddon } from '../fastInflate.js';
import type { TiffReader } from '../geotiffSource.js';
import { ImageryService } from '../imageryService.js';
import { makeLargeCog, makeLargeStriped, renderSweep, tileSweep, type SweepResult } from './largeImages.js';
import { windowPairs } from './windowPairs.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const size = Number(arg('size', '20000'));
const stripedSize = Number(arg('striped', '8000'));
const dir = arg('dir', '/tmp/vantage-imagery-bench');
const pairs = Number(arg('pairs', '8'));
if (args.includes('--threads')) process.env.VANTAGE_DECODE_THREADS = arg('threads', '2');
const threads = decodePool()?.size ?? 1;
const src = dataPath('imagery/bitemporal_naip/naip_2020-08-31.tif');
if (!src) throw new Error('needs ../shared/data/imagery/bitemporal_naip/naip_2020-08-31.tif (set VANTAGE_DATA)');
mkdirSync(dir, { recursive: true });

function warmOsCache(file: string): void {
  readFileSync(file); // blocks in the page cache, as after any earlier look at the file
}

const t0 = Date.now();
const cog = makeLargeCog(src, path.join(dir, `cog_${size}.tif`), size);
const striped = makeLargeStriped(src, path.join(dir, `striped_${stripedSize}.tif`), stripedSize);
console.log(`inputs ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (reused when present): ${cog}, ${striped}`);

// --no-overviews measures striped files as before the overview cache (every zoomed-out tile reads level 0)
const overviewCacheDir = args.includes('--no-overviews') ? undefined : path.join(dir, 'overviews');
if (overviewCacheDir) rmSync(overviewCacheDir, { recursive: true, force: true });
const workerUrl = await buildTileWorker();

/** one service per reader (its tile workers take the reader from the environment when they start) */
async function sweeps(reader: TiffReader): Promise<Map<string, { seq: SweepResult; par: SweepResult }>> {
  process.env.VANTAGE_TIFF_READER = reader;
  const svc = new ImageryService({ workerUrl, overviewCacheDir });
  const out = new Map<string, { seq: SweepResult; par: SweepResult }>();
  try {
    for (const [label, file] of [
      ['COG', cog],
      ['striped', striped],
    ] as const) {
      warmOsCache(file);
      const facts = await svc.register(label, file);
      if ((await svc.overviewBuild(label)).state === 'building') {
        const b0 = performance.now();
        const done = await svc.overviewsSettled(label);
        console.log(`${label}: overview cache ${done.state} in ${((performance.now() - b0) / 1000).toFixed(1)} s (background build, first open only)`);
      }
      // native zoom of this ~1 m/px image is about 17; sweep from the whole-image view down to full resolution
      const zooms = label === 'COG' ? [12, 13, 14, 15, 16, 17] : [14, 15, 16, 17];
      const addrs = tileSweep(facts.footprint!, zooms, 48);
      // the first tile pays for opening the image in each worker and the display statistics: not a steady state
      await svc.tile(label, addrs[0]!.z, addrs[0]!.x - 50, addrs[0]!.y - 50);
      const seq = await renderSweep(svc, label, addrs.slice(0, addrs.length / 2), 1);
      const par = await renderSweep(svc, label, addrs.slice(addrs.length / 2), 8);
      out.set(label, { seq, par });
      console.log(
        `${label} [${reader}] ${facts.width}×${facts.height}×${facts.bandCount} (${facts.overviewCount} overviews): ` +
          `one at a time p50 ${seq.p50.toFixed(1)} ms, p95 ${seq.p95.toFixed(1)} ms (${seq.tiles} tiles); ` +
          `8 in flight ${par.tilesPerSecond.toFixed(1)} tiles/s, p50 ${par.p50.toFixed(1)} ms, p95 ${par.p95.toFixed(1)} ms; peak RSS ${Math.max(seq.peakRssMB, par.peakRssMB).toFixed(0)} MB`,
    );
    }
  } finally {
    await svc.close();
    delete process.env.VANTAGE_TIFF_READER;
  }
  return out;
}

// --windows-only: just the window-read comparison with GDAL
const before = args.includes('--windows-only') ? new Map() : await sweeps('geotiff');
const after = args.includes('--windows-only') ? new Map() : await sweeps('blocks');
for (const label of before.keys()) {
  const b = before.get(label)!;
  const a = after.get(label)!;
  console.log(
    `${label} tiles before → after: one at a time p50 ${b.seq.p50.toFixed(1)} → ${a.seq.p50.toFixed(1)} ms, p95 ${b.seq.p95.toFixed(1)} → ${a.seq.p95.toFixed(1)} ms; ` +
      `8 in flight p50 ${b.par.p50.toFixed(1)} → ${a.par.p50.toFixed(1)} ms, p95 ${b.par.p95.toFixed(1)} → ${a.par.p95.toFixed(1)} ms, ` +
      `${b.par.tilesPerSecond.toFixed(1)} → ${a.par.tilesPerSecond.toFixed(1)} tiles/s`,
  );
}

// window reads: 4 windows of 2048² px, all bands, full resolution
const W = 2048;
const windows = [0.2, 0.4, 0.6, 0.8].map((f) => [Math.floor(size * f), Math.floor(size * (1 - f)), W, W]);
const r = await windowPairs(cog, windows, threads, pairs);
const f1 = (v: number) => v.toFixed(1);
const inflate = process.env.VANTAGE_DEFLATE === 'zlib' || !loadDeflateAddon() ? 'node:zlib' : 'libdeflate addon';
console.log(`COG window reads (${windows.length} × ${W}² px × all bands, ${threads} thread(s) each side, DEFLATE via ${inflate}, pixels sha256 ${r.sha256.slice(0, 16)}… equal in every run):`);
console.log(`  ours (block decoder) MB/s: ${r.ours.map(f1).join(', ')}`);
console.log(`  GDAL ReadAsArray     MB/s: ${r.gdal.map(f1).join(', ')}`);
console.log(`  ratios: ${r.ratios.map((x) => x.toFixed(2)).join(', ')}`);
console.log(
  `  median ratio ${r.median.toFixed(2)}×, ${r.atLeastOne} of ${r.ratios.length} pairs ≥ 1.0 ` +
    `(geotiff.js reader, one run: ${f1(r.oldReaderMBs)} MB/s = ${(r.oldReaderMBs / (r.gdal.reduce((a, b) => a + b, 0) / r.gdal.length)).toFixed(2)}× GDAL's mean)`,
);
await decodePool()?.close();
