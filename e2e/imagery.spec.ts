import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, restartBackend, startBackend, waitForAppEvent } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);

test('pixel inspector agrees with GDAL; display changes re-render and persist', async () => {
  const file = imageFile!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-img-'));
  const browser = await launchChromium();
  const backend = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, file);
    await waitForAppEvent(page, 'tiles-loaded');

    // the pixel under the cursor: values equal gdallocationinfo's, with lon/lat and MGRS
    const box = (await page.getByTestId('map').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2 + 3, box.y + box.height / 2 + 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const inspector = page.getByTestId('pixel-inspector');
    await expect(inspector).toBeVisible();
    const x = Number(await inspector.getAttribute('data-x'));
    const y = Number(await inspector.getAttribute('data-y'));
    const want = execFileSync('gdallocationinfo', ['-valonly', file, String(x), String(y)], { encoding: 'utf8' }).trim().split(/\s+/).join('  ');
    await expect(page.getByTestId('pixel-values')).toHaveText(want);
    await expect(page.getByTestId('pixel-mgrs')).toHaveText(/^18[A-Z]{3}\d{10}$/);

    // a display change asks for tiles under a new version, so the browser cache cannot show the old look
    const before = await page.locator('.vantage-image-layer img.leaflet-tile').first().getAttribute('src');
    await page.getByTestId('display-gamma').fill('2');
    await waitForAppEvent(page, 'tiles-loaded', 2);
    const after = await page.locator('.vantage-image-layer img.leaflet-tile').first().getAttribute('src');
    const v = (src: string | null) => new URL(src!, 'http://page/').searchParams.get('v');
    expect(v(after)).toBeTruthy();
    expect(v(after)).not.toBe(v(before));

    // opacity applies to the layer and, like the display, is stored with the image
    await page.getByTestId('layer-opacity').fill('0.5');
    await expect(page.locator('.vantage-image-layer').first()).toHaveCSS('opacity', '0.5');
    // the slider saves once it has been still for a moment: wait until the case database holds it
    const db = new Database(path.join(dataDir, 'vantage.db'), { readonly: true });
    try {
      await expect
        .poll(() => (db.prepare('SELECT display_json FROM images').get() as { display_json: string | null }).display_json ?? '')
        .toContain('"opacity":0.5');
    } finally {
      db.close();
    }
    await page.reload();
    await waitForAppEvent(page, 'session-opened');
    await expect(page.getByTestId('display-gamma')).toHaveValue('2');
    await expect(page.locator('.vantage-image-layer').first()).toHaveCSS('opacity', '0.5');
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const SECOND = 'imagery/optical_4326/world.rgb.tif';

/** a one-zoom MBTiles (zoom 1, four solid tiles) written here, as a user's offline basemap would be */
async function writeMbtiles(file: string): Promise<void> {
  const db = new Database(file);
  db.exec('CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);');
  for (const [k, v] of [['name', 'E2E basemap'], ['format', 'png'], ['minzoom', '0'], ['maxzoom', '1']]) db.prepare('INSERT INTO metadata VALUES (?, ?)').run(k, v);
  const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 20, g: 120, b: 220 } } }).png().toBuffer();
  for (let x = 0; x < 2; x++) for (let y = 0; y < 2; y++) db.prepare('INSERT INTO tiles VALUES (1, ?, ?, ?)').run(x, y, png);
  db.close();
}

/** Drops a real file on the map the way a file manager does: a drop event carrying a DataTransfer with the File. */
async function dropFile(page: Page, file: string): Promise<void> {
  const bytes = readFileSync(file).toString('base64');
  const dt = await page.evaluateHandle(
    ({ b64, name }) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      // the page's DOM classes (this file is typed for Node)
      const g = globalThis as unknown as {
        DataTransfer: new () => { items: { add(f: unknown): void } };
        File: new (parts: unknown[], name: string, opts: { type: string }) => unknown;
      };
      const t = new g.DataTransfer();
      t.items.add(new g.File([arr], name, { type: 'image/tiff' }));
      return t;
    },
    { b64: bytes, name: path.basename(file) },
  );
  await page.getByTestId('map').dispatchEvent('dragover', { dataTransfer: dt });
  await page.getByTestId('map').dispatchEvent('drop', { dataTransfer: dt });
}

test('drop opens images (copied into imports); layers reorder, fade, swipe; a preset re-renders tiles', async () => {
  const [second] = requireData(SECOND);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-drop-'));
  const browser = await launchChromium();
  let backend = await startBackend(dataDir);
  try {
    let { page, problems } = await openApp(browser, backend);

    // the browser cannot name a dropped file's path: it is uploaded into the imports folder and opened from there
    await dropFile(page, second!);
    await waitForAppEvent(page, 'image-opened');
    await waitForAppEvent(page, 'tiles-loaded');
    await expect(page.getByTestId('drop-notice')).toContainText("copied into the case's imports folder");
    await dropFile(page, imageFile!);
    await waitForAppEvent(page, 'image-opened', 2);
    await waitForAppEvent(page, 'tiles-loaded', 2); // each new layer reports its first full load once
    expect(readdirSync(path.join(dataDir, 'imports')).sort()).toEqual(['RGB.byte.tif', 'world.rgb.tif']);

    const items = page.getByTestId('layer-item');
    await expect(items).toHaveCount(2);
    const topId = (await items.nth(0).getAttribute('data-image-id'))!;
    const bottomId = (await items.nth(1).getAttribute('data-image-id'))!;
    const layer = (id: string) => page.locator(`.vantage-image-layer[data-image-id="${id}"]`);
    const z = async (id: string) => Number(await layer(id).evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { zIndex: string } }).getComputedStyle(el).zIndex));
    expect(await z(topId)).toBeGreaterThan(await z(bottomId));

    // reorder: the top image moves down, in the list and on the map
    await page.getByRole('button', { name: 'Move RGB.byte.tif down' }).click();
    await expect(items.nth(0)).toHaveAttribute('data-image-id', bottomId);
    await expect.poll(async () => (await z(topId)) < (await z(bottomId))).toBe(true);
    await page.getByRole('button', { name: 'Move RGB.byte.tif up' }).click();
    await expect(items.nth(0)).toHaveAttribute('data-image-id', topId);

    // opacity of one layer only
    await items.nth(0).getByTestId('layer-opacity').fill('0.3');
    await expect(layer(topId)).toHaveCSS('opacity', '0.3');
    await expect(layer(bottomId)).toHaveCSS('opacity', '1');

    // swipe: the top layer is clipped at the divider, which moves with the keyboard
    await items.nth(0).getByTestId('layer-swipe').check();
    const divider = page.getByTestId('swipe-divider');
    await expect(divider).toHaveAttribute('aria-valuenow', '50');
    const clip = () => layer(topId).evaluate((el) => (el as unknown as { style: { clipPath: string } }).style.clipPath);
    await expect.poll(clip).toMatch(/^polygon/);
    const clipAt50 = await clip();
    await divider.press('ArrowRight');
    await expect(divider).toHaveAttribute('aria-valuenow', '52');
    await expect.poll(clip).not.toBe(clipAt50);
    await items.nth(0).getByTestId('layer-swipe').uncheck();
    await expect(divider).toHaveCount(0);
    await expect.poll(clip).toBe('');

    // a preset change: new tile URLs (display version) and different pixels
    await items.nth(0).locator('.layer-name').click();
    const tile = layer(topId).locator('img.leaflet-tile').first();
    const before = (await tile.getAttribute('src'))!;
    // the backend renders the display in force whatever `v` says: read the old look's pixels before changing it
    const pixels = async (src: string) => sharp(await (await page.request.get(new URL(src, backend.url).href)).body()).raw().toBuffer();
    const a = await pixels(before);
    const tilesSoFar = await page.evaluate(() => ((globalThis as unknown as { __vantageEvents?: string[] }).__vantageEvents ?? []).filter((e) => e === 'tiles-loaded').length);
    await page.getByTestId('display-preset').selectOption('thermal');
    await waitForAppEvent(page, 'tiles-loaded', tilesSoFar + 1);
    const after = (await tile.getAttribute('src'))!;
    const v = (src: string) => new URL(src, 'http://page/').searchParams.get('v');
    expect(v(after)).not.toBe(v(before));
    const b = await pixels(after);
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);

    // an MBTiles basemap chosen with "Basemap…" through the file browser (which lists .mbtiles for it) is drawn under the imagery
    const mbtiles = path.join(dataDir, 'base.mbtiles');
    await writeMbtiles(mbtiles);
    await page.getByTestId('basemap-choose').click();
    await expect(page.locator('#fb-title')).toHaveText('Choose a basemap (.mbtiles)');
    await page.getByTestId('file-browser-path').fill(dataDir);
    await page.getByTestId('file-browser-path').press('Enter');
    await expect(page.locator('[data-testid="file-entry"][data-name="base.mbtiles"]')).toBeVisible();
    await expect(page.locator('[data-testid="file-entry"][data-name="vantage.db"]')).toHaveCount(0);
    await page.locator('[data-testid="file-entry"][data-name="base.mbtiles"]').click();
    const basemapDrawn = async (p: Page) => {
      await expect(p.getByTestId('basemap-name')).toHaveText('E2E basemap');
      await expect(p.locator('.vantage-basemap-layer img.leaflet-tile-loaded').first()).toBeAttached();
      const baseSrc = (await p.locator('.vantage-basemap-layer img').first().getAttribute('src'))!;
      expect(baseSrc).toContain('imagery.basemapTile');
      expect(await pixels(baseSrc).then((px) => [...px.subarray(0, 3)])).toEqual([20, 120, 220]);
    };
    await basemapDrawn(page);
    expect(problems).toEqual([]);

    // the choice survives a backend restart (a new process, a new token): drawn again without asking
    const restart = async () => {
      ({ backend, page, problems } = await restartBackend(browser, page, backend, dataDir));
      await waitForAppEvent(page, 'session-opened');
    };
    await restart();
    await basemapDrawn(page);
    await expect(page.getByTestId('basemap-notice')).toHaveCount(0);
    expect(problems).toEqual([]);

    // its file gone by the next start: no basemap, and the page says so once (not again after a reload)
    rmSync(mbtiles);
    await restart();
    await expect(page.getByTestId('basemap-notice')).toContainText('“base.mbtiles” chosen earlier could not be reopened');
    await expect(page.getByTestId('basemap-name')).toHaveCount(0);
    await page.reload();
    await waitForAppEvent(page, 'session-opened');
    await expect(page.getByTestId('basemap-notice')).toHaveCount(0);
    await expect(page.getByTestId('basemap-name')).toHaveCount(0);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a large striped TIFF shows its overview build as a progress bar on its layer until the cache is ready', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-ovr-'));
  // 4,096² px, 3 bands, striped, no overviews: the size from which the backend builds an overview cache
  const striped = path.join(dataDir, 'striped_4096.tif');
  execFileSync('gdal_translate', ['-q', '-outsize', '4096', '4096', '-co', 'TILED=NO', imageFile!, striped]);
  const browser = await launchChromium();
  const backend = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, striped);
    const bar = page.getByTestId('overview-progress');
    await expect(bar).toBeVisible();
    await expect(bar).toContainText('Building overviews');
    await expect(bar).toHaveCount(0, { timeout: 60_000 });
    const db = new Database(path.join(dataDir, 'vantage.db'), { readonly: true });
    const sha = (db.prepare('SELECT sha256 FROM images').get() as { sha256: string }).sha256;
    db.close();
    expect(readdirSync(path.join(dataDir, 'cache', 'overviews', sha))).toContain('manifest.json');
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const SAR_DB = 'imagery/sar_db/sen1floods11_Spain_7370579_S1Hand_VV_VH_db.tif';
const [sarDbFile] = requireData(SAR_DB);

test('the decided source kind is shown (SAR already in dB opens in SAR dB) and the analyst can override it, kept in the case', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-kind-'));
  const browser = await launchChromium();
  const backend = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, sarDbFile!);
    await waitForAppEvent(page, 'tiles-loaded');
    await expect(page.getByTestId('source-kind-summary')).toHaveText('SAR · backscatter in dB (stored in dB)');
    await expect(page.getByTestId('display-preset')).toHaveValue('sar-db');
    // the SAR dB tiles are visible (not the opaque black of a second log)
    const src = await page.locator('.vantage-image-layer img.leaflet-tile').first().getAttribute('src');
    const png = Buffer.from(await (await page.request.get(new URL(src!, page.url()).toString())).body());
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const greys = new Set<number>();
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0) greys.add(data[i]!);
    expect(greys.size).toBeGreaterThan(20);

    // the analyst states the SAR scale apart from the kind: read as linear power, the summary and the tiles follow
    await page.getByTestId('sar-scale-select').selectOption('linear');
    await expect(page.getByTestId('source-kind-summary')).toHaveText('SAR · backscatter in dB (stored linear)');
    await expect.poll(() => page.locator('.vantage-image-layer img.leaflet-tile').first().getAttribute('src')).not.toBe(src);
    await page.getByTestId('sar-scale-select').selectOption('');
    await expect(page.getByTestId('source-kind-summary')).toHaveText('SAR · backscatter in dB (stored in dB)');

    await page.getByTestId('source-kind-select').selectOption('elevation');
    await expect(page.getByTestId('source-kind-summary')).toHaveText('Elevation · elevation in m');
    await expect(page.getByTestId('display-colourmap')).toHaveValue('terrain');
    await page.reload();
    await waitForAppEvent(page, 'session-opened');
    await expect(page.getByTestId('source-kind-select')).toHaveValue('elevation');
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
