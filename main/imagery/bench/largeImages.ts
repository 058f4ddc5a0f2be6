import { execFileSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { lngLatToTile } from '../../contract/georef.js';
import type { ImageryService } from '../imageryService.js';

/**
 * Large test rasters made by GDAL from a real 4-band NAIP tile, upsampled (bilinear) so blocks hold realistic,
 * compressible-but-not-trivial content. Generated once per path (reused by later runs).
 */
export function makeLargeCog(src: string, out: string, size: number): string {
  if (existsSync(out)) return out;
  const tmp = `${out}.part`;
  execFileSync('gdal_translate', ['-q', '-outsize', String(size), String(size), '-r', 'bilinear', '-of', 'COG', '-co', 'COMPRESS=DEFLATE', '-co', 'BLOCKSIZE=256', '-co', 'NUM_THREADS=ALL_CPUS', '-co', 'OVERVIEW_RESAMPLING=NEAREST', '-co', 'OVERVIEWS=IGNORE_EXISTING', src, tmp]);
  renameSync(tmp, out);
  return out;
}

/** a striped (untiled, no overviews) GeoTIFF: the layout GIS tools need .ovr files for */
export function makeLargeStriped(src: string, out: string, size: number): string {
  if (existsSync(out)) return out;
  const tmp = `${out}.part`;
  execFileSync('gdal_translate', ['-q', '-outsize', String(size), String(size), '-r', 'bilinear', '-of', 'GTiff', '-co', 'TILED=NO', '-co', 'COMPRESS=DEFLATE', src, tmp]);
  renameSync(tmp, out);
  return out;
}

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/**
 * Distinct tile addresses over the image at each zoom: a grid of `perZoom` tiles around the centre, so every
 * request is a tile not rendered before (a rendered-tile cache hit would not measure decoding).
 */
export function tileSweep(footprint: [number, number][], zooms: number[], perZoom: number): TileAddress[] {
  let lon = 0, lat = 0;
  const n = footprint.length - 1;
  for (let i = 0; i < n; i++) {
    lon += footprint[i]![0];
    lat += footprint[i]![1];
  }
  lon /= n;
  lat /= n;
  const side = Math.ceil(Math.sqrt(perZoom));
  const out: TileAddress[] = [];
  for (const z of zooms) {
    const c = lngLatToTile(lon, lat, z);
    const x0 = c.x - Math.floor(side / 2);
    const y0 = c.y - Math.floor(side / 2);
    for (let k = 0; k < perZoom; k++) out.push({ z, x: x0 + (k % side), y: y0 + Math.floor(k / side) });
  }
  return out;
}

export interface SweepResult {
  tiles: number;
  p50: number;
  p95: number;
  max: number;
  tilesPerSecond: number;
  peakRssMB: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Renders every address with `concurrency` requests in flight; latency per tile, throughput, peak process RSS. */
export async function renderSweep(svc: ImageryService, id: string, addrs: TileAddress[], concurrency: number): Promise<SweepResult> {
  const lat: number[] = [];
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < addrs.length) {
          const a = addrs[next++]!;
          const s = performance.now();
          await svc.tile(id, a.z, a.x, a.y);
          lat.push(performance.now() - s);
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  const secs = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  lat.sort((a, b) => a - b);
  return { tiles: lat.length, p50: pct(lat, 50), p95: pct(lat, 95), max: lat[lat.length - 1] ?? 0, tilesPerSecond: lat.length / secs, peakRssMB: peak / 2 ** 20 };
}
