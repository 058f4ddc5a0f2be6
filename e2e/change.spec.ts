import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, startBackend, waitForAppEvent, type Backend } from './stack.js';

const A = 'imagery/bitemporal_naip/naip_2009-08-18.tif';
const B = 'imagery/bitemporal_naip/naip_2020-08-31.tif';
/** a scene elsewhere (North Carolina, UTM 18N): overlaps neither date */
const FAR = 'imagery/optical_utm/RGB.byte.tif';
const [fileA, fileB, fileFar] = requireData(A, B, FAR);
test.setTimeout(90_000);

/** The map pane's translate: changes whenever that Leaflet map pans. */
const paneTransform = (page: Page, testId: string) =>
  page.getByTestId(testId).locator('.leaflet-map-pane').evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);

test('two dates: side by side with linked pan, blink, change detection with polygons and areas, stored in the case', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-change-'));
  const browser = await launchChromium();
  let backend: Backend | null = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, fileFar!, 1);
    await openImageThroughBrowser(page, fileA!, 2);
    await openImageThroughBrowser(page, fileB!, 3);

    // the launcher sits in the map toolbar, clear of the chat panel
    await expect(page.getByRole('toolbar', { name: 'Map tools' }).getByTestId('compare-open')).toBeEnabled();
    await page.getByTestId('compare-open').click();
    const panel = page.getByTestId('compare-panel');
    await expect(panel).toBeVisible();
    // the first two images opened do not overlap: the panel opens on the pair that does
    const optionName = (which: 'A' | 'B') => page.getByTestId(`compare-image-${which}`).evaluate((el) => {
      const s = el as unknown as { value: string; options: ArrayLike<{ value: string; textContent: string | null }> };
      return Array.from(s.options).find((o) => o.value === s.value)?.textContent ?? '';
    });
    expect([await optionName('A'), await optionName('B')]).toEqual(['naip_2009-08-18.tif', 'naip_2020-08-31.tif']);
    await expect(page.getByTestId('compare-notice')).toHaveCount(0);

    // a pair that does not overlap is refused first, in a plain sentence (no contract code)
    await page.getByTestId('compare-image-A').selectOption({ label: 'RGB.byte.tif' });
    await expect(page.getByTestId('compare-notice')).toContainText('RGB.byte.tif and naip_2020-08-31.tif do not overlap');
    await page.getByTestId('compare-ties').fill('1,2:3');
    await page.getByTestId('compare-run').click();
    await expect(page.getByTestId('compare-error')).toHaveText(/^tie points are "xa,ya:xb,yb" pairs/);
    await page.getByTestId('compare-ties').fill('');
    await page.getByTestId('compare-run').click();
    await expect(page.getByTestId('compare-error')).toHaveText('RGB.byte.tif and naip_2020-08-31.tif do not overlap on the ground.');
    await page.getByTestId('compare-image-A').selectOption({ label: 'naip_2009-08-18.tif' });
    await expect(page.getByTestId('compare-error')).toHaveCount(0);
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
    await expect(page.getByTestId('compare-method')).toContainText('Detector cva-matched: change-vector analysis');
    const rows = page.getByTestId('change-polygon-item');
    expect(await rows.count()).toBeGreaterThan(2);

    // changed areas are a translucent fill; the outline comes with the pointer
    const mapA = page.getByTestId('compare-map-a');
    const path3 = mapA.locator('path.change-polygon[data-change-index="2"]');
    await expect(path3).toHaveAttribute('stroke', 'none');
    expect(Number(await path3.getAttribute('fill-opacity'))).toBeLessThan(0.5);
    await path3.dispatchEvent('mouseover');
    await expect(path3).not.toHaveAttribute('stroke', 'none');
    await expect(rows.nth(2)).toHaveCSS('background-color', 'rgba(255, 255, 255, 0.08)');
    await path3.dispatchEvent('mouseout');
    await expect(path3).toHaveAttribute('stroke', 'none');

    // the list sorts by area (largest first) or mean magnitude, both ways
    const column = (id: string) => rows.locator(`[data-testid="${id}"]`).allTextContents();
    const mags = async () => (await column('change-magnitude')).map(Number);
    await page.getByTestId('change-sort-magnitude').click();
    const byMag = await mags();
    expect(byMag).toEqual([...byMag].sort((x, y) => y - x));
    await page.getByTestId('change-sort-magnitude').click();
    expect(await mags()).toEqual([...byMag].reverse());
    await page.getByTestId('change-sort-area').click();
    await expect(rows.first()).toHaveAttribute('data-index', '0');

    // a click on a small area zooms the maps to it and highlights it
    const last = rows.last();
    const index = await last.getAttribute('data-index');
    const target = mapA.locator(`path.change-polygon[data-change-index="${index}"]`);
    const before3 = (await target.boundingBox())!;
    await last.click();
    await waitForAppEvent(page, 'change-focused');
    await expect(target).toHaveClass(/change-focused/);
    await expect(last).toHaveAttribute('aria-selected', 'true');
    const after3 = (await target.boundingBox())!;
    const mapBox = (await mapA.boundingBox())!;
    expect(after3.width).toBeGreaterThan(before3.width * 2);
    expect(Math.abs(after3.x + after3.width / 2 - (mapBox.x + mapBox.width / 2))).toBeLessThan(mapBox.width / 8);
    expect(Math.abs(after3.y + after3.height / 2 - (mapBox.y + mapBox.height / 2))).toBeLessThan(mapBox.height / 8);
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
