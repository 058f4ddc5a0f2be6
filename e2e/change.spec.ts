import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, startBackend, type Backend } from './stack.js';

const A = 'imagery/bitemporal_naip/naip_2009-08-18.tif';
const B = 'imagery/bitemporal_naip/naip_2020-08-31.tif';
const [fileA, fileB] = requireData(A, B);
test.setTimeout(40_000);

/** The map pane's translate: changes whenever that Leaflet map pans. */
const paneTransform = (page: Page, testId: string) =>
  page.getByTestId(testId).locator('.leaflet-map-pane').evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);

test('two dates: side by side with linked pan, blink, change detection with polygons and areas, stored in the case', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-change-'));
  const browser = await launchChromium();
  let backend: Backend | null = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, fileA!, 1);
    await openImageThroughBrowser(page, fileB!, 2);

    // the launcher sits in the map toolbar, clear of the chat panel
    await expect(page.getByRole('toolbar', { name: 'Map tools' }).getByTestId('compare-open')).toBeEnabled();
    await page.getByTestId('compare-open').click();
    const panel = page.getByTestId('compare-panel');
    await expect(panel).toBeVisible();
    await expect(page.getByTestId('compare-image-A')).toHaveValue(/.+/);
    await expect(page.getByTestId('compare-map-a')).toBeVisible();
    await expect(page.getByTestId('compare-map-b')).toBeVisible();

    // linked pan: dragging the left map moves the right one too
    const before = await paneTransform(page, 'compare-map-b');
    const box = (await page.getByTestId('compare-map-a').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 60, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => paneTransform(page, 'compare-map-b')).not.toBe(before);

    // blink: one map, flipping between the dates
    await page.getByTestId('compare-mode-blink').click();
    await expect(page.getByTestId('compare-map-b')).toHaveCount(0);
    await expect(panel).toContainText('A · naip_2009-08-18.tif');
    await page.getByTestId('compare-flip').click();
    await expect(panel).toContainText('B · naip_2020-08-31.tif');
    await page.getByTestId('compare-blink').click();
    await expect(panel).toContainText('A · naip_2009-08-18.tif'); // the timer flips it back
    await page.getByTestId('compare-blink').click();

    // swipe: B's layer is clipped to the right of the divider, and the clip follows the slider
    await page.getByTestId('compare-mode-swipe').click();
    const bLayer = page.getByTestId('compare-map-a').locator('.leaflet-layer').nth(1);
    const clipLeft = async () => Number(/rect\([^,]+,[^,]+,[^,]+,\s*(-?[\d.]+)px\)/.exec(await bLayer.evaluate((el) => (el as unknown as { style: { clip: string } }).style.clip))?.[1]);
    const half = await clipLeft();
    await page.getByTestId('compare-swipe').fill('20');
    await expect.poll(clipLeft).toBeLessThan(half - 100);

    await page.getByTestId('compare-run').click();
    await expect(page.getByTestId('compare-summary')).toContainText(/\d+ change polygon\(s\), [\d.]+ ha changed/, { timeout: 20_000 });
    expect(await page.getByTestId('change-polygon-item').count()).toBeGreaterThan(0);
    await expect(page.getByTestId('compare-map-a').locator('path.change-polygon').first()).toBeAttached();
    expect(problems).toEqual([]);

    await backend.stop();
    backend = null;
    const db = new Database(path.join(dataDir, 'vantage.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT phrase FROM masks WHERE phrase LIKE 'change %'").get() as { phrase: string } | undefined;
      expect(row?.phrase).toBe('change 2009-08-18 → 2020-08-31');
    } finally {
      db.close();
    }
  } finally {
    await browser.close();
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
