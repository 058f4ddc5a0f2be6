import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dataRoot, launchChromium, missingData, startBackend, waitForAppEvent, watchConsole } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const missing = missingData(IMAGE);
if (missing && process.env.CI === 'true') throw new Error(`${missing}: CI must have ../shared/data`);
test.skip(missing !== null, missing ?? '');

async function openImage(page: Page, file: string): Promise<void> {
  await page.getByTestId('open-image').click();
  await page.getByTestId('file-browser-path').fill(path.dirname(file));
  await page.getByTestId('file-browser-path').press('Enter');
  await page.locator(`[data-testid="file-entry"][data-name="${path.basename(file)}"]`).click();
  await waitForAppEvent(page, 'image-opened');
}

test('pixel inspector agrees with GDAL; display changes re-render and persist', async () => {
  const file = path.join(dataRoot(), IMAGE);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-img-'));
  const browser = await launchChromium();
  const backend = await startBackend(dataDir);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watchConsole(page);
    await page.goto(backend.url);
    await waitForAppEvent(page, 'session-opened');
    await openImage(page, file);
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
