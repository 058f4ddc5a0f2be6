import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { makeLargeCog, renderSweep, tileSweep } from './bench/largeImages.js';
import { buildTileWorker } from './buildTileWorker.js';
import { ImageryService } from './imageryService.js';

const SIZE = 10_000;
const RSS_LIMIT_MB = 1536;
const dir = mkdtempSync(path.join(tmpdir(), 'vantage-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWithData('a 10,000² 4-band COG', ['imagery/bitemporal_naip/naip_2020-08-31.tif'], ([naip]) => {
  it('opens and renders tiles from overview to full resolution within 1.5 GB RSS, off the main thread', async () => {
    const cog = makeLargeCog(naip!, path.join(dir, 'cog.tif'), SIZE);
    const svc = new ImageryService({ workerUrl: await buildTileWorker(), poolSize: 2 });
    try {
      expect(svc.mode).toBe('workers');
      const facts = await svc.register('big', cog);
      expect([facts.width, facts.height, facts.bandCount]).toEqual([SIZE, SIZE, 4]);
      expect(facts.overviewCount).toBeGreaterThanOrEqual(4);
      // the main event loop stays responsive while tiles render: a 10 ms timer never waits long
      let worstLag = 0;
      let last = performance.now();
      const lagTimer = setInterval(() => {
        const now = performance.now();
        worstLag = Math.max(worstLag, now - last - 10);
        last = now;
      }, 10);
      const r = await renderSweep(svc, 'big', tileSweep(facts.footprint!, [10, 12, 14, 15, 16, 17], 16), 4);
      clearInterval(lagTimer);
      expect(r.tiles).toBe(96);
      expect(r.peakRssMB).toBeLessThan(RSS_LIMIT_MB);
      expect(worstLag).toBeLessThan(250);
      // tiles at full resolution are not empty: the image is there
      const full = tileSweep(facts.footprint!, [17], 1)[0]!;
      const png = await svc.tile('big', full.z, full.x, full.y);
      expect(png.byteLength).toBeGreaterThan(2000);
    } finally {
      await svc.close();
    }
  }, 90_000);
});
