import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { requireData } from './data.js';
import { openImageThroughBrowser, openStack, waitForAppEvent } from './stack.js';

// Landsat 7 over Andros Island (Bahamas), UTM 18N. Image pixel (463, 540) is on the island's east coast where the land
// (blue ≤ red) meets the Tongue of the Ocean: found by reading the bands along row 540 with GDAL.
const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);
const COAST_PX = [463, 540] as const;
const TOLERANCE_PX = 4;

interface Probe { x: number; y: number; lng: number; lat: number }

const mercY = (lat: number) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));

/** The map's own lon/lat at a screen point, as the status bar shows it under the mouse. */
async function probe(page: Page, x: number, y: number): Promise<Probe> {
  await page.mouse.move(x, y);
  const cursor = page.getByTestId('status-cursor');
  await expect(cursor).toContainText('lon');
  const m = /lon (-?[\d.]+)\s+lat (-?[\d.]+)/.exec((await cursor.textContent())!)!;
  return { x, y, lng: Number(m[1]), lat: Number(m[2]) };
}

/** Screen point of a lon/lat on the map (Web Mercator is affine on screen: two probes fix it). */
async function screenOf(page: Page, lng: number, lat: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('map').boundingBox())!;
  const a = await probe(page, box.x + box.width * 0.3, box.y + box.height * 0.3);
  const b = await probe(page, box.x + box.width * 0.7, box.y + box.height * 0.7);
  return {
    x: a.x + ((lng - a.lng) * (b.x - a.x)) / (b.lng - a.lng),
    y: a.y + ((mercY(lat) - mercY(a.lat)) * (b.y - a.y)) / (mercY(b.lat) - mercY(a.lat)),
  };
}

/** The SVG path calls used below (the e2e project compiles without the DOM library). */
interface SvgPath {
  getTotalLength(): number;
  getScreenCTM(): unknown;
  getPointAtLength(at: number): { matrixTransform(m: unknown): { x: number; y: number } };
}

/** Shortest screen distance from (x, y) to the drawn Natural Earth coastline (sampled along the SVG paths). */
function distanceToCoast(page: Page, x: number, y: number): Promise<number> {
  return page.evaluate(
    ([px, py]) => {
      let best = Infinity;
      const doc = (globalThis as unknown as { document: { querySelectorAll(sel: string): Iterable<SvgPath> } }).document;
      for (const el of doc.querySelectorAll('path.vantage-world-coast')) {
        const ctm = el.getScreenCTM();
        const total = el.getTotalLength();
        for (let s = 0; s <= total; s += 0.5) {
          const p = el.getPointAtLength(s).matrixTransform(ctm);
          best = Math.min(best, Math.hypot(p.x - px!, p.y - py!));
        }
      }
      return best;
    },
    [x, y],
  );
}

test('a UTM scene opens over the right Natural Earth coastline; world, graticule and scale toggle; a user basemap takes precedence', async () => {
  const file = imageFile!;
  const { dataDir, page, problems, close } = await openStack('vantage-e2e-world-');
  try {
    await openImageThroughBrowser(page, file);
    await waitForAppEvent(page, 'tiles-loaded');
    const coast = page.locator('path.vantage-world-coast');
    await expect(coast).toHaveCount(1);
    await expect(page.locator('path.vantage-world-land')).toHaveCount(1);
    await expect(page.locator('.leaflet-control-attribution')).toContainText('Natural Earth 1:50m');

    // the scene's coast pixel, placed where the app puts it (status bar under the mouse), lies on the drawn coast
    const [lng, lat] = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', file], { input: `${COAST_PX[0] + 0.5} ${COAST_PX[1] + 0.5}\n`, encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
    const at = await screenOf(page, lng!, lat!);
    await page.mouse.move(at.x, at.y);
    await expect(page.getByTestId('status-pixel')).toHaveText(`x ${COAST_PX[0]}  y ${COAST_PX[1]}`);
    const d = await distanceToCoast(page, at.x, at.y);
    console.log(`coast point ${lng!.toFixed(4)},${lat!.toFixed(4)} at screen ${at.x.toFixed(1)},${at.y.toFixed(1)}: ${d.toFixed(2)} px from the coastline`);
    expect(d).toBeLessThan(TOLERANCE_PX);

    // place names (GeoNames): Nassau, inside the scene, is labelled at its own lon/lat
    const nassau = page.locator('.vantage-place-label', { hasText: 'Nassau' });
    await expect(nassau).toBeVisible();
    await expect(page.locator('.leaflet-control-attribution')).toContainText('GeoNames');
    const nassauAt = await screenOf(page, -77.34306, 25.05823);
    const label = (await nassau.locator('span').boundingBox())!;
    console.log(`Nassau label centred at ${(label.x + label.width / 2).toFixed(1)},${(label.y + label.height / 2).toFixed(1)}; its lon/lat at ${nassauAt.x.toFixed(1)},${nassauAt.y.toFixed(1)}`);
    expect(Math.abs(label.x + label.width / 2 - nassauAt.x)).toBeLessThan(4);
    expect(Math.abs(label.y + label.height / 2 - nassauAt.y)).toBeLessThan(4);

    // a labelled graticule and a metric scale bar
    await expect(page.locator('.vantage-graticule-line').first()).toBeAttached();
    await expect(page.locator('.vantage-graticule-label.meridian').first()).toHaveText(/^\d+(\.\d+)?°W$/);
    await expect(page.locator('.vantage-graticule-label.parallel').first()).toHaveText(/^\d+(\.\d+)?°N$/);
    await expect(page.locator('.leaflet-control-scale-line')).toHaveText(/^\d+ k?m$/);
    if (process.env.WORLD_SHOT) {
      // for a person to look at: as opened, and with the image faded to see the coast under it
      await page.screenshot({ path: process.env.WORLD_SHOT });
      await page.getByTestId('layer-opacity').fill('0.35');
      await page.screenshot({ path: process.env.WORLD_SHOT.replace(/\.png$/, '-faded.png') });
      await page.getByTestId('layer-opacity').fill('1');
    }

    // each toggle hides and shows its layer
    const toggles: [string, string][] = [
      ['world', 'path.vantage-world-coast'],
      ['graticule', '.vantage-graticule-line'],
      ['places', '.vantage-place-label'],
      ['scale', '.leaflet-control-scale'],
    ];
    for (const [key, selector] of toggles) {
      await page.getByTestId(`world-toggle-${key}`).uncheck();
      await expect(page.locator(selector)).toHaveCount(0);
      await page.getByTestId(`world-toggle-${key}`).check();
      await expect(page.locator(selector).first()).toBeAttached();
    }

    // the user's own basemap takes precedence: Natural Earth is hidden while one is set
    const db = new Database(path.join(dataDir, 'user.mbtiles'));
    db.exec(`CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
      INSERT INTO metadata VALUES ('name', 'User basemap'), ('format', 'png'), ('minzoom', '0'), ('maxzoom', '0');`);
    const tile = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 60, g: 60, b: 60 } } }).png().toBuffer();
    db.prepare('INSERT INTO tiles VALUES (0, 0, 0, ?)').run(tile);
    db.close();
    await page.getByTestId('basemap-choose').click();
    await page.getByTestId('file-browser-path').fill(dataDir);
    await page.getByTestId('file-browser-path').press('Enter');
    await page.locator('[data-testid="file-entry"][data-name="user.mbtiles"]').click();
    await expect(page.getByTestId('basemap-name')).toHaveText('User basemap');
    await expect(coast).toHaveCount(0);
    await expect(page.getByTestId('world-toggles')).toContainText('Natural Earth hidden');
    await page.getByRole('button', { name: 'Remove the basemap' }).click();
    await expect(coast).toHaveCount(1);

    // Natural Earth fades out past the zoom its scale supports
    const pane = page.locator('.leaflet-vantage-world-pane');
    await expect(pane).toHaveCSS('opacity', '1');
    // zoom in one step per poll until the map's own limit (this scene allows ≈ 10.75, where the curve gives 0.56);
    // the exact curve is worldScale.test.ts's job
    const zoomIn = page.locator('.leaflet-control-zoom-in');
    await expect
      .poll(
        async () => {
          if (!(await zoomIn.evaluate((el) => el.classList.contains('leaflet-disabled')))) await zoomIn.click();
          return Number(await pane.evaluate((el) => (el as unknown as { style: { opacity: string } }).style.opacity));
        },
        { intervals: [400], timeout: 30_000 },
      )
      .toBeLessThan(0.75);
    expect(problems).toEqual([]);
  } finally {
    await close();
  }
});
