import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, startBackend, waitForAppEvent, type Backend } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);

test('no model pack: a drawn box gives a classical mask preview, labelled as such, kept as an object of the case', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-classical-'));
  // the app's pack is a folder holding no pack (as before one is installed)
  const noPack = path.join(dataDir, 'no-pack');
  mkdirSync(noPack);
  const browser = await launchChromium();
  const backend: Backend = await startBackend(dataDir, ['--pack', noPack]);
  try {
    const { page, problems } = await openApp(browser, backend, 'app-ready');
    await waitForAppEvent(page, 'session-opened');
    await openImageThroughBrowser(page, imageFile!);
    await waitForAppEvent(page, 'tiles-loaded');

    const box = (await page.getByTestId('map').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.getByTestId('tool-box').click();
    await page.mouse.move(cx - 50, cy - 40);
    await page.mouse.down();
    await page.mouse.move(cx + 50, cy + 40, { steps: 5 });
    await page.mouse.up();
    await waitForAppEvent(page, 'region-drawn');

    // the preview comes from the image itself, and says so (composer line and the outline's tooltip)
    await expect(page.getByTestId('instant-mask-method')).toContainText('classical (no model)');
    await expect(page.locator('path.vantage-instant-mask')).toHaveCount(1);
    await page.locator('path.vantage-instant-mask').hover();
    await expect(page.locator('.leaflet-tooltip', { hasText: 'preview' })).toContainText('classical (no model)');

    // Keep: stored in the case like any mask, named as classical, drawn on the map; the prompt is cleared
    await page.getByTestId('instant-mask-keep').click();
    await waitForAppEvent(page, 'batch-done');
    await expect(page.getByTestId('object-row')).toHaveCount(1);
    await expect(page.getByTestId('object-row').first()).toContainText('classical (no model)');
    // no model score for a mask no model made: its meta line says how it was made instead
    await expect(page.getByTestId('object-row').first().locator('.item-meta')).toContainText('classical (no model)');
    await expect(page.getByTestId('object-row').first().locator('.item-meta')).not.toContainText('score');
    await expect(page.locator('path.vantage-mask')).toHaveCount(1);
    await expect(page.getByTestId('instant-mask-info')).toHaveCount(0);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
