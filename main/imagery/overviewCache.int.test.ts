import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { tileSweep } from './bench/largeImages.js';
import { buildTileWorker } from './buildTileWorker.js';
import { GeoTiffSource } from './geotiffSource.js';
import type { ImageFacts } from './imageryPort.js';
import { ImageryService } from './imageryService.js';
import { buildOverviews, listOverviewEntries, overviewCapFromEnv, OverviewedSource } from './overviewCache.js';

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

  it('keeps the cache under its cap by evicting least recently used entries, never an open one, and rebuilds on demand', async () => {
    // three files with different bytes (so different cache entries) and the same pixels
    const files = ['a', 'b', 'c'].map((k) => {
      const f = path.join(dir, `lru-${k}.tif`);
      execFileSync('gdal_translate', ['-q', '-co', 'TILED=NO', '-co', 'BLOCKYSIZE=16', '-mo', `VANTAGE_TEST=${k}`, naip!, f]);
      return f;
    });
    const [A, B, C] = files as [string, string, string];
    const cacheDir = path.join(dir, 'lru-cache');
    const logs: string[] = [];
    const base = { workerUrl: await buildTileWorker(), poolSize: 2, overviewCacheDir: cacheDir, overviewMinSide: 512, log: (m: string) => logs.push(m) };
    const entryDir = (facts: { sha256: string }) => path.join(cacheDir, facts.sha256);
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

    // A and B built by a first run with no practical cap
    const first = new ImageryService({ ...base, overviewCacheMaxBytes: 1024 ** 3 });
    let fa: ImageFacts;
    let fb: ImageFacts;
    let fc: ImageFacts;
    try {
      fa = await first.register('a', A);
      fb = await first.register('b', B);
      expect((await first.overviewsSettled('a')).state).toBe('ready');
      expect((await first.overviewsSettled('b')).state).toBe('ready');
    } finally {
      await first.close();
    }
    const entries = await listOverviewEntries(cacheDir);
    expect(entries.map((e) => e.sha256).sort()).toEqual([fa.sha256, fb.sha256].sort());
    const entryBytes = entries[0]!.bytes;
    expect(entryBytes).toBeGreaterThan(500_000);
    expect(readdirSync(entryDir(fa)).filter((n) => n.startsWith('.in-use-'))).toEqual([]); // closed: no longer marked open
    const bLevel1 = readFileSync(path.join(entryDir(fb), 'L1_b0.raw'));
    utimesSync(entryDir(fa), hoursAgo(2), hoursAgo(2));
    utimesSync(entryDir(fb), hoursAgo(1), hoursAgo(1));

    // room for two and a half entries
    const svc = new ImageryService({ ...base, overviewCacheMaxBytes: Math.floor(entryBytes * 2.5) });
    try {
      await svc.register('a', A);
      expect((await svc.overviewBuild('a')).state).toBe('ready'); // reused, and its use recorded
      expect(statSync(entryDir(fa)).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
      // A stays open but is made the least recently used: being open must protect it
      utimesSync(entryDir(fa), hoursAgo(3), hoursAgo(3));

      fc = await svc.register('c', C);
      expect((await svc.overviewsSettled('c')).state).toBe('ready');
      // the third entry pushed the cache over its cap: B (least recently used that is not open) went, A and C stay
      expect(existsSync(entryDir(fb))).toBe(false);
      expect(existsSync(path.join(entryDir(fa), 'manifest.json'))).toBe(true);
      expect(existsSync(path.join(entryDir(fc), 'manifest.json'))).toBe(true);
      expect(readdirSync(cacheDir).sort()).toEqual([fa.sha256, fc.sha256].sort()); // nothing half-deleted left
      expect(logs.join('\n')).toMatch(new RegExp(`evicted 1 least recently used entry: ${fb.sha256.slice(0, 12)}`));
      // the open image still draws from its overviews
      const t = tileSweep(fa.footprint!, [15], 1)[0]!;
      expect((await svc.tile('a', t.z, t.x, t.y)).byteLength).toBeGreaterThan(100);

      // opening the evicted image again rebuilds it, byte for byte; all three are open now, so none is evicted
      // even though the cache is over its cap
      await svc.register('b', B);
      expect((await svc.overviewBuild('b')).state).toBe('building');
      expect(await svc.overviewsSettled('b')).toEqual({ state: 'ready', progress: 1, message: null });
      expect(readFileSync(path.join(entryDir(fb), 'L1_b0.raw')).equals(bLevel1)).toBe(true);
      expect(readdirSync(cacheDir).filter((n) => !n.startsWith('.')).length).toBe(3);
      expect(logs.at(-1)).toMatch(/over its .* cap: the rest is in use by open images/);
    } finally {
      await svc.close();
    }

    // at start-up the cache is brought under the cap, oldest first, but an entry another live process has open
    // (here: vitest's parent process) is kept even though it is the oldest
    utimesSync(entryDir(fa), hoursAgo(3), hoursAgo(3));
    utimesSync(entryDir(fb), hoursAgo(2), hoursAgo(2));
    writeFileSync(path.join(entryDir(fa), `.in-use-${hostname().replace(/[^A-Za-z0-9.]/g, '_')}-${process.ppid}`), '');
    const small = new ImageryService({ ...base, overviewCacheMaxBytes: Math.floor(entryBytes * 2.2) });
    try {
      expect(await small.trimOverviewCache()).toEqual([]); // the start-up trim already ran; nothing left to do
      expect(readdirSync(cacheDir).sort()).toEqual([fa.sha256, fc.sha256].sort());
    } finally {
      await small.close();
    }

    // the cap from the environment, in MiB; a value that is not a size is refused by name
    expect(overviewCapFromEnv({ VANTAGE_OVERVIEW_CACHE_MB: '2.5' })).toBe(2.5 * 1024 * 1024);
    expect(overviewCapFromEnv({})).toBeNull();
    expect(() => overviewCapFromEnv({ VANTAGE_OVERVIEW_CACHE_MB: '8G' })).toThrow(/VANTAGE_OVERVIEW_CACHE_MB must be a number of megabytes .*"8G"/);
  });
});
