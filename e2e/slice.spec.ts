import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, restartBackend, startBackend, waitForAppEvent, watchConsole, type Backend } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);

/** GDAL as the oracle: the source pixel values around (x, y) of band 1..3. */
function sourceRgbAround(file: string, x: number, y: number): number[][] {
  const out: number[][] = [];
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const v = execFileSync('gdallocationinfo', ['-valonly', file, String(x + dx), String(y + dy)], { encoding: 'utf8' });
      out.push(v.trim().split(/\s+/).map(Number));
    }
  }
  return out;
}

function gdalPixelToLonLat(file: string, x: number, y: number): [number, number] {
  const out = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', file], { input: `${x} ${y}\n`, encoding: 'utf8' });
  const [lon, lat] = out.trim().split(/\s+/).map(Number);
  return [lon!, lat!];
}

async function statusCursor(page: Page): Promise<{ px: [number, number]; lonlat: [number, number] }> {
  const ll = (await page.getByTestId('status-cursor').innerText()).match(/lon\s+(-?[\d.]+)\s+lat\s+(-?[\d.]+)/);
  const px = (await page.getByTestId('status-pixel').innerText()).match(/x\s+(-?\d+)\s+y\s+(-?\d+)/);
  if (!px || !ll) throw new Error('status bar cursor text not understood');
  return { px: [Number(px[1]), Number(px[2])], lonlat: [Number(ll[1]), Number(ll[2])] };
}

test('box → streamed answer → mask → stored → reopened after a backend restart', async () => {
  const file = imageFile!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-'));
  const browser = await launchChromium();
  let backend: Backend | null = await startBackend(dataDir);
  try {
    let page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let problems = watchConsole(page);
    await page.goto(backend.url);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    await waitForAppEvent(page, 'app-ready');
    await waitForAppEvent(page, 'session-opened');

    // open the image through the backend file browser (the page never sees the path)
    await page.getByTestId('open-image').click();
    const browserDialog = page.getByTestId('file-browser');
    await expect(browserDialog).toBeVisible();
    await page.getByTestId('file-browser-path').fill(path.dirname(file));
    await page.getByTestId('file-browser-path').press('Enter');
    await browserDialog.locator(`[data-testid="file-entry"][data-name="RGB.byte.tif"]`).click();
    await waitForAppEvent(page, 'image-opened');
    await waitForAppEvent(page, 'tiles-loaded');

    // placement: under the map centre the status bar's pixel and lon/lat agree with GDAL, and the screen shows that pixel
    const map = page.getByTestId('map');
    const box = (await map.boundingBox())!;
    // whole CSS pixels: the pointer and the 1-px screenshot below must look at the same screen pixel
    const cx = Math.round(box.x + box.width / 2);
    const cy = Math.round(box.y + box.height / 2);
    // zoom in so one source pixel covers several screen pixels, and wait until every tile has loaded
    // one click at a time (a click during the zoom animation can be lost), three levels: past any overview, so the
    // tiles are the source's own pixels whatever zoom the image was fitted at
    for (let i = 0; i < 6; i++) {
      await page.locator('.leaflet-control-zoom-in').click();
      await page.waitForFunction(() => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('.leaflet-zoom-anim'));
    }
    await page.waitForFunction(() => {
      type El = { classList: { contains(c: string): boolean } };
      const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown; querySelectorAll(s: string): ArrayLike<El> } }).document;
      const tiles = Array.from(doc.querySelectorAll('.vantage-image-layer .leaflet-tile'));
      return !doc.querySelector('.leaflet-zoom-anim') && tiles.length > 0 && tiles.every((t) => t.classList.contains('leaflet-tile-loaded'));
    });
    await page.mouse.move(cx + 7, cy + 5);
    await page.mouse.move(cx, cy);
    await expect(page.getByTestId('status-pixel')).toContainText('x ');
    const cursor = await statusCursor(page);
    // the status bar floors to the pixel; GDAL gives that pixel's centre: within one pixel (~0.003° here)
    const [lon, lat] = gdalPixelToLonLat(file, cursor.px[0] + 0.5, cursor.px[1] + 0.5);
    expect(Math.abs(lon - cursor.lonlat[0])).toBeLessThan(0.003);
    expect(Math.abs(lat - cursor.lonlat[1])).toBeLessThan(0.003);
    const shot = await page.screenshot({ clip: { x: Math.round(cx), y: Math.round(cy), width: 1, height: 1 } });
    const { default: sharp } = await import('sharp');
    const rgb = [...(await sharp(shot).removeAlpha().raw().toBuffer())];
    const candidates = sourceRgbAround(file, cursor.px[0], cursor.px[1]);
    const best = Math.min(...candidates.map((c) => Math.max(...c.map((v, i) => Math.abs(v - rgb[i]!)))));
    expect(best, `screen ${rgb} vs source ${JSON.stringify(candidates)}`).toBeLessThanOrEqual(1);

    // draw a box around the centre
    await page.getByTestId('tool-box').click();
    await page.mouse.move(cx - 80, cy - 60);
    await page.mouse.down();
    await page.mouse.move(cx, cy, { steps: 5 });
    await page.mouse.move(cx + 80, cy + 60, { steps: 5 });
    await page.mouse.up();
    await waitForAppEvent(page, 'region-drawn');
    await expect(page.locator('.vantage-region-pending, .vantage-region-stored')).toHaveCount(1);

    // ask; count streamed token frames on the wire
    let tokenFrames = 0;
    page.on('websocket', (ws) =>
      ws.on('framereceived', (f) => {
        if (typeof f.payload === 'string' && f.payload.includes('"type":"token"')) tokenFrames++;
      }),
    );
    await page.getByTestId('chat-input').fill('what is in <region1> ?');
    await page.getByTestId('chat-send').click();
    await waitForAppEvent(page, 'turn-saved');
    const answer = page.getByTestId('turn-assistant').last();
    await waitForAppEvent(page, 'answer-done', 1, 120_000);
    await expect(answer).toHaveAttribute('data-status', 'complete');
    const answerText = (await answer.innerText()).trim();
    expect(answerText.length).toBeGreaterThan(0);
    expect(tokenFrames).toBeGreaterThan(1);
    await waitForAppEvent(page, 'mask-shown');
    await expect(page.locator('.vantage-mask').first()).toBeVisible();
    await expect(page.getByTestId('status-provider')).toContainText('cpu');
    await expect(page.getByTestId('status-pack')).toContainText('vantage-test-pack');
    expect(problems).toEqual([]);

    // stored in SQLite
    const db = new Database(path.join(dataDir, 'vantage.db'), { readonly: true });
    const turns = db.prepare('SELECT role, status, provider FROM turns ORDER BY seq').all() as { role: string; status: string; provider: string | null }[];
    expect(turns.map((t) => [t.role, t.status])).toEqual([['user', 'complete'], ['assistant', 'complete']]);
    expect(turns[1]!.provider).toBe('cpu');
    expect((db.prepare('SELECT count(*) AS n FROM regions').get() as { n: number }).n).toBe(1);
    const maskCount = (db.prepare('SELECT count(*) AS n FROM masks').get() as { n: number }).n;
    expect(maskCount).toBeGreaterThan(0);
    // <SEG> masks are composed from the ask's sub-views: finer than the test pack's 64×64 global-view mask
    const rle = JSON.parse((db.prepare('SELECT rle_json FROM masks LIMIT 1').get() as { rle_json: string }).rle_json) as { width: number; height: number };
    expect(rle.width).toBeGreaterThan(64);
    expect(rle.height).toBe(rle.width);
    db.close();

    // full restart of the backend: a new process, a new token
    ({ backend, page, problems } = await restartBackend(browser, page, backend!, dataDir));
    await waitForAppEvent(page, 'session-opened');
    await waitForAppEvent(page, 'tiles-loaded');
    await expect(page.getByTestId('turn-user')).toHaveCount(1);
    await expect(page.getByTestId('turn-user').first()).toContainText('what is in');
    await expect(page.getByTestId('turn-assistant')).toHaveCount(1);
    expect((await page.getByTestId('turn-assistant').first().innerText()).trim()).toBe(answerText);
    await expect(page.locator('.vantage-region-pending, .vantage-region-stored')).toHaveCount(1);
    await expect(page.locator('.vantage-mask')).toHaveCount(maskCount);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
