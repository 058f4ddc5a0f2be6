import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { tileSweep } from './bench/largeImages.js';
import { buildTileWorker } from './buildTileWorker.js';
import { GeoTiffSource } from './geotiffSource.js';
import { ImageryService } from './imageryService.js';
import { buildOverviews, OverviewedSource } from './overviewCache.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vantage-ovr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rgba(png: Uint8Array): Promise<Buffer> {
  return sharp(png).ensureAlpha().raw().toBuffer();
}

describeWithData('overview cache of a striped TIFF', ['imagery/bitemporal_naip/naip_2020-08-31.tif'], ([naip]) => {
  // 934×723×4 uint8, nodata 0, rewritten striped (16-row strips) and without overviews
  const striped = path.join(dir, 'striped.tif');
  execFileSync('gdal_translate', ['-q', '-co', 'TILED=NO', '-co', 'BLOCKYSIZE=16', naip!, striped]);

  it('builds 2× levels that agree with GDAL average resampling (within 1 DN) and reads windows of them', async () => {
    const source = await GeoTiffSource.open(striped);
    const out = path.join(dir, 'direct');
    const progress: number[] = [];
    try {
      await buildOverviews(source, out, { onProgress: (p) => progress.push(p) });
    } finally {
      await source.close();
    }
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);

    const oracle = path.join(dir, 'gdal_l1.raw');
    // the first 722 rows halve exactly (723 does not, and GDAL would weight the last row fractionally)
    const srcwin = ['-srcwin', '0', '0', '934', '722', '-outsize', '467', '361'];
    execFileSync('gdal_translate', ['-q', '-r', 'average', ...srcwin, '-of', 'ENVI', '-co', 'INTERLEAVE=BSQ', striped, oracle]);
    const gdal = readFileSync(oracle); // band-sequential bytes
    const base = await GeoTiffSource.open(striped);
    const ovr = OverviewedSource.wrap(base, out);
    try {
      expect(ovr.levels.map((l) => [l.width, l.height])).toEqual([
        [934, 723],
        [467, 362],
        [234, 181],
      ]);
      expect(ovr.facts.overviewCount).toBe(2);
      // a window inside level 1, every band
      const win: [number, number, number, number] = [100, 50, 300, 361];
      const d = await ovr.readWindow(1, win, [0, 1, 2, 3]);
      let worst = 0;
      for (let b = 0; b < 4; b++) {
        for (let y = win[1]; y < win[3]; y++) {
          for (let x = win[0]; x < win[2]; x++) {
            const ours = d.bands[b]![(y - win[1]) * d.width + (x - win[0])]!;
            worst = Math.max(worst, Math.abs(ours - gdal[b * 467 * 361 + y * 467 + x]!));
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    } finally {
      await ovr.close();
    }
  });

  it('is built in the background on first open, used for zoomed-out tiles, and reused by content hash', async () => {
    const cacheDir = path.join(dir, 'cache');
    const opts = { workerUrl: await buildTileWorker(), poolSize: 2, overviewCacheDir: cacheDir, overviewMinSide: 512 };
    const svc = new ImageryService(opts);
    const plain = new ImageryService({ workerUrl: opts.workerUrl, poolSize: 1 });
    try {
      const facts = await svc.register('s', striped);
      expect(['building', 'ready']).toContain((await svc.overviewBuild('s')).state);
      const done = await svc.overviewsSettled('s');
      expect(done).toEqual({ state: 'ready', progress: 1, message: null });
      expect(existsSync(path.join(cacheDir, facts.sha256, 'manifest.json'))).toBe(true);

      // a zoomed-out tile from the overview looks like the same tile drawn from full resolution
      await plain.register('p', striped);
      const t = tileSweep(facts.footprint!, [15], 1)[0]!;
      const [a, b] = await Promise.all([svc.tile('s', t.z, t.x, t.y).then(rgba), plain.tile('p', t.z, t.x, t.y).then(rgba)]);
      let diff = 0;
      let opaque = 0;
      for (let i = 0; i < a.length; i += 4) {
        if (a[i + 3] === 0 || b[i + 3] === 0) continue;
        opaque++;
        diff += Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
      }
      expect(opaque).toBeGreaterThan(1000);
      expect(diff / opaque / 3).toBeLessThan(25);
    } finally {
      await svc.close();
      await plain.close();
    }
    // a second open of the same bytes finds the cache: nothing to build
    const again = new ImageryService(opts);
    try {
      await again.register('s2', striped);
      expect((await again.overviewBuild('s2')).state).toBe('ready');
    } finally {
      await again.close();
    }
  });
});
