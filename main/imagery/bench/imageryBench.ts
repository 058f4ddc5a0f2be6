/**
 * `npm run bench:imagery [-- --size 20000 --striped 8000 --dir /tmp/vantage-imagery-bench]`
 * Prints tiles/s and p50/p95 ms per 256-px tile for a COG and a striped TIFF (tile worker pool, blocks in the OS
 * cache, every tile rendered for the first time), and COG window read throughput next to gdal_translate's on
 * the same windows of the same file in the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { dataPath } from '../../testing/data.js';
import { buildTileWorker } from '../buildTileWorker.js';
import { GeoTiffSource } from '../geotiffSource.js';
import { ImageryService } from '../imageryService.js';
import { makeLargeCog, makeLargeStriped, renderSweep, tileSweep } from './largeImages.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const size = Number(arg('size', '20000'));
const stripedSize = Number(arg('striped', '8000'));
const dir = arg('dir', '/tmp/vantage-imagery-bench');
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
const svc = new ImageryService({ workerUrl: await buildTileWorker(), overviewCacheDir });
console.log(`tile engine: ${svc.mode}`);
try {
  for (const [label, file, zoomsFrom] of [
    ['COG', cog, 0],
    ['striped', striped, 0],
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
    void zoomsFrom;
    // the first tile pays for opening the image in each worker and the display statistics: not a steady state
    await svc.tile(label, addrs[0]!.z, addrs[0]!.x - 50, addrs[0]!.y - 50);
    const seq = await renderSweep(svc, label, addrs.slice(0, addrs.length / 2), 1);
    const par = await renderSweep(svc, label, addrs.slice(addrs.length / 2), 8);
    console.log(
      `${label} ${facts.width}×${facts.height}×${facts.bandCount} (${facts.overviewCount} overviews): ` +
        `one at a time p50 ${seq.p50.toFixed(1)} ms, p95 ${seq.p95.toFixed(1)} ms (${seq.tiles} tiles); ` +
        `8 in flight ${par.tilesPerSecond.toFixed(1)} tiles/s, p50 ${par.p50.toFixed(1)} ms, p95 ${par.p95.toFixed(1)} ms; peak RSS ${Math.max(seq.peakRssMB, par.peakRssMB).toFixed(0)} MB`,
    );
  }

  // window reads: 4 windows of 2048² px, all bands, full resolution
  const W = 2048;
  const windows = [0.2, 0.4, 0.6, 0.8].map((f) => [Math.floor(size * f), Math.floor(size * (1 - f))] as const);
  const source = await GeoTiffSource.open(cog);
  let s = performance.now();
  let bytes = 0;
  for (const [x, y] of windows) {
    const d = await source.readWindow(0, [x, y, x + W, y + W], [0, 1, 2, 3]);
    bytes += d.bands.reduce((a, b) => a + b.byteLength, 0);
  }
  const oursMBs = bytes / 2 ** 20 / ((performance.now() - s) / 1000);
  await source.close();
  const outRaw = path.join(dir, 'window.bin');
  s = performance.now();
  for (const [x, y] of windows) {
    execFileSync('gdal_translate', ['-q', '-srcwin', String(x), String(y), String(W), String(W), '-of', 'ENVI', cog, outRaw]);
  }
  const gdalMBs = bytes / 2 ** 20 / ((performance.now() - s) / 1000);
  rmSync(outRaw, { force: true });
  rmSync(`${outRaw}.hdr`, { force: true });
  rmSync(`${outRaw}.aux.xml`, { force: true });
  console.log(
    `COG window reads (${windows.length} × ${W}² px × 4 bands): ours ${oursMBs.toFixed(1)} MB/s, gdal_translate ${gdalMBs.toFixed(1)} MB/s ` +
      `(process start included), ratio ${(oursMBs / gdalMBs).toFixed(2)}×`,
  );
} finally {
  await svc.close();
}
