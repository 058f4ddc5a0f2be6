import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, startBackend, waitForAppEvent, type Backend } from './stack.js';
import { objectColour } from '../main/contract/objectStyle.js';

/** raw model markup: never shown to the analyst nor written into a deliverable */
const MARKUP = /<\/?p>|<SEG>|<\/s>|<region\d>/;

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);

test('answer → measured objects → GeoJSON and PDF exported from the UI into a chosen folder', async () => {
  const file = imageFile!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-reports-'));
  const outDir = path.join(dataDir, 'deliverables');
  mkdirSync(outDir);
  const browser = await launchChromium();
  let backend: Backend | null = null;
  try {
    backend = await startBackend(dataDir);
    const { page, problems } = await openApp(browser, backend);

    await openImageThroughBrowser(page, file);
    await waitForAppEvent(page, 'tiles-loaded');

    const box = (await page.getByTestId('map').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.getByTestId('tool-box').click();
    await page.mouse.move(cx - 80, cy - 60);
    await page.mouse.down();
    await page.mouse.move(cx + 80, cy + 60, { steps: 5 });
    await page.mouse.up();
    await waitForAppEvent(page, 'region-drawn');
    await page.getByTestId('chat-input').fill('outline what is in <region1>');
    await page.getByTestId('chat-send').click();
    await waitForAppEvent(page, 'answer-done', 1, 30_000);
    await waitForAppEvent(page, 'mask-shown');
    const masks = await page.locator('.vantage-mask').count();
    expect(masks).toBeGreaterThan(0);

    // the object list: one measured row per mask, geodesic area in m², ha or km²
    const rows = page.getByTestId('object-row');
    await expect(rows).toHaveCount(masks);
    await expect(rows.first().getByTestId('object-area')).toHaveText(/(m²|ha|km²)$/);
    // highlighting restyles the drawn polygon in place (setStyle), it does not build a new one
    await page.locator('path.vantage-mask').evaluateAll((els) => els.forEach((el) => el.setAttribute('data-drawn-before', '')));
    await rows.first().hover();
    await expect(page.locator('.vantage-mask-focused')).toHaveCount(1);
    await expect(page.locator('path.vantage-mask-focused[data-drawn-before]')).toHaveCount(1);
    // hovering a mask on the map names it with its geodesic area, not pixels
    await page.mouse.move(box.x + 5, box.y + 5);
    await page.locator('path.vantage-mask').first().hover({ force: true });
    await expect(page.locator('.vantage-mask-tooltip')).toHaveText(/ · [\d,.]+ (m²|ha|km²)$/);

    // the answer reads clean, and names its masks as the object list does (not "mask 1"), in the same colour
    const answerText = (await page.getByTestId('turn-assistant').last().textContent()) ?? '';
    expect(answerText).not.toMatch(MARKUP);
    const firstName = (await rows.first().locator('.item-name').textContent())!;
    await expect(page.getByTestId('mask-chip').first()).toHaveText(firstName);
    await expect(page.getByTestId('object-swatch').first()).toHaveAttribute('data-colour', objectColour(0));
    expect(await page.locator('path.vantage-mask').first().getAttribute('stroke')).toBe(objectColour(0));
    // each object can be hidden on the map and faded
    await page.getByTestId('object-visibility').first().click();
    await expect(page.locator('path.vantage-mask')).toHaveCount(masks - 1);
    await page.getByTestId('object-visibility').first().click();
    await expect(page.locator('path.vantage-mask')).toHaveCount(masks);
    await page.getByTestId('object-opacity').first().fill('30');
    await expect(page.locator('path.vantage-mask').first()).toHaveAttribute('stroke-opacity', '0.3');
    await expect(page.locator('path.vantage-mask').first()).toHaveAttribute('stroke', objectColour(0));

    // a new point beside the stored box: the two region labels differ
    await page.getByTestId('tool-point').click();
    await page.mouse.click(cx - 120, cy + 100);
    await waitForAppEvent(page, 'region-drawn', 2);
    await expect(page.locator('.vantage-region-label')).toHaveCount(2);
    const labels = await page.locator('.vantage-region-label').allTextContents();
    expect(new Set(labels).size).toBe(2);

    // choose the export folder through the in-app folder browser
    await page.getByTestId('export-choose-folder').click();
    await page.getByTestId('folder-picker-path').fill(outDir);
    await page.getByTestId('folder-picker-path').press('Enter');
    await expect(page.getByTestId('folder-picker-current')).toHaveText('deliverables');
    await page.getByTestId('folder-picker-use').click();
    await expect(page.getByTestId('export-folder')).toHaveText('deliverables');

    // only the ticked object goes into the GeoJSON
    await page.getByTestId('object-select').first().check();
    await expect(page.getByTestId('export-scope')).toHaveText(/1 selected/);
    await page.getByTestId('export-geojson').click();
    const result = page.getByTestId('export-result');
    await expect(result).toHaveAttribute('data-kind', 'geojson');
    const geojson = path.join(outDir, (await result.getAttribute('data-file'))!);
    expect(existsSync(geojson)).toBe(true);
    const info = execFileSync('ogrinfo', ['-so', '-al', geojson], { encoding: 'utf8' });
    expect(info).toContain('Feature Count: 1');
    expect(info).toMatch(/WGS 84/);

    await page.getByTestId('object-select').first().uncheck();
    // the PDF at the current map view, with the analyst's title and name
    await page.getByTestId('export-title').fill('Harbour survey');
    await page.getByTestId('export-analyst').fill('R. Analyst');
    await page.getByTestId('export-extent').selectOption('view');
    await page.getByTestId('export-pdf').click();
    await expect(result).toHaveAttribute('data-kind', 'pdf');
    const pdf = path.join(outDir, (await result.getAttribute('data-file'))!);
    const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain('outline what is in <region 1>');
    expect(text).not.toMatch(MARKUP);
    expect(text).toContain('EPSG:32618');
    expect(text).toContain('vantage-test-pack');
    expect(text).toContain('Harbour survey');
    expect(text).toContain('analyst R. Analyst');
    expect(text.replace(/\s+/g, ' ')).toMatch(/Map extent: chosen view, lon -?[\d.]+ to -?[\d.]+, lat/);
    // stored in the case: the PDF written again, byte for byte, under a free name
    await page.getByTestId('stored-reports').locator('summary').click();
    await page.getByTestId('stored-reports').getByRole('button', { name: 'write again' }).first().click();
    await expect(result).not.toHaveAttribute('data-file', path.basename(pdf));
    const again = path.join(outDir, (await result.getAttribute('data-file'))!);
    expect(readFileSync(again).equals(readFileSync(pdf))).toBe(true);
    // written whole: nothing but the deliverables in the folder
    expect(readdirSync(outDir).sort()).toEqual([path.basename(geojson), path.basename(pdf), path.basename(again)].sort());
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
