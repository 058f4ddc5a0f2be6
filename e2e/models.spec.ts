import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, repoRoot, startBackend, waitForAppEvent, type Backend } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);

test('model packs panel, EP per stage, instant mask preview on a click, a task preset without text', async () => {
  const file = imageFile!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-models-'));
  const browser = await launchChromium();
  const backend: Backend = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend, 'app-ready');
    await waitForAppEvent(page, 'session-opened');

    // the built-in pack is listed with what it can do, and the status bar names the provider of every stage
    const pack = page.getByTestId('pack-item');
    await expect(pack).toHaveCount(1);
    await expect(pack).toContainText('vantage-test-pack');
    await expect(pack).toContainText('in use');
    await expect(pack).toContainText('chat + masks');
    await waitForAppEvent(page, 'model-ready');
    await expect(page.getByTestId('status-stages')).toContainText('decoder');
    await expect(page.getByTestId('status-stages')).toContainText(': cpu');
    // …and, in its tooltip, how the answer's decode loop runs (the IO-binding addon, built by npm run build)
    await expect(page.getByTestId('status-stages')).toHaveAttribute('title', /decode: native IO binding on cpu · KV cache kept on the device/);
    // the analyst reads why the GPU is idle in words; library file names stay in the tooltip
    await expect(page.getByTestId('status-stages')).not.toContainText(/\.so\b|\.dll\b|onnxruntime/);

    await openImageThroughBrowser(page, file);

    // a point gives a mask preview at once (grounding + pixel stages), before any question is sent
    const map = page.getByTestId('map');
    const box = (await map.boundingBox())!;
    await page.getByTestId('tool-point').click();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitForAppEvent(page, 'region-drawn');
    await expect(page.getByTestId('instant-mask-info')).toContainText('preview mask');
    // the tile follows the zoom: the whole image in view → a large tile; zoomed in 6 levels → one view (S = 64 px)
    const tileSide = async () => {
      const t = (await page.getByTestId('instant-mask-info').getAttribute('data-tile'))!.split(',').map(Number);
      return Math.max(t[2]! - t[0]!, t[3]! - t[1]!);
    };
    expect(await tileSide()).toBeGreaterThanOrEqual(512);
    for (let i = 0; i < 12; i++) {
      // one zoom step at a time: a click during the zoom animation is dropped
      await page.locator('.leaflet-control-zoom-in').click();
      await page.waitForFunction(() => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('.leaflet-zoom-anim'));
    }
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2); // the point tool is still on
    await waitForAppEvent(page, 'region-drawn', 2);
    await expect.poll(tileSide).toBe(64);

    // a preset is a full question: scene classification sends with an empty text box
    await page.getByTestId('task-mode').selectOption('scene');
    await expect(page.getByTestId('chat-send')).toBeEnabled();
    await page.getByTestId('chat-send').click();
    await waitForAppEvent(page, 'answer-done', 1, 120_000);
    await expect(page.getByTestId('turn-assistant').last()).toHaveAttribute('data-status', 'complete');
    await expect(page.getByTestId('instant-mask-info')).toHaveCount(0); // the preview goes once the regions are sent

    // batch prompts: a GeoJSON (lon/lat from gdaltransform) through "Prompts from file…" → progress → masks in the object list
    const pixels: [number, number][] = [[400, 350], [300, 300], [700, 100], [150, 600], [-400, -400]];
    const ll = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', '-output_xy', file], { input: pixels.map((p) => p.join(' ')).join('\n') + '\n', encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    const promptsFile = path.join(dataDir, 'survey.geojson');
    writeFileSync(promptsFile, JSON.stringify({
      type: 'FeatureCollection',
      features: ll.map((c, i) => ({ type: 'Feature', properties: { id: `site-${i + 1}` }, geometry: { type: 'Point', coordinates: c } })),
    }));
    // a large batch (5,000 points, the limit) shows its progress and cancels with nothing stored
    const grid = Array.from({ length: 5000 }, (_, i) => [5 + (i % 100) * 7.8, 5 + Math.floor(i / 100) * 14]);
    const gridLl = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', '-output_xy', file], { input: grid.map((p) => p.join(' ')).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 24 })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    writeFileSync(path.join(dataDir, 'grid.geojson'), JSON.stringify({
      type: 'FeatureCollection',
      features: gridLl.map((c) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: c } })),
    }));
    writeFileSync(path.join(dataDir, 'notes.txt'), 'not a prompts file');
    const objectsBefore = await page.getByTestId('object-row').count();
    await page.getByTestId('prompts-from-file').click();
    await page.getByTestId('file-browser-path').fill(dataDir);
    await page.getByTestId('file-browser-path').press('Enter');
    await expect(page.getByTestId('file-browser').locator('[data-testid="file-entry"][data-name="survey.geojson"]')).toHaveCount(1);
    await expect(page.getByTestId('file-browser').locator('[data-testid="file-entry"][data-name="notes.txt"]')).toHaveCount(0); // only .geojson/.json
    await page.getByTestId('file-browser').locator('[data-testid="file-entry"][data-name="grid.geojson"]').click();
    await expect(page.getByTestId('batch-progress')).toContainText(/Masks \d+\/5000/);
    await page.getByTestId('batch-cancel').click();
    await expect(page.getByTestId('batch-summary')).toContainText('cancelled: nothing stored');
    await expect(page.getByTestId('batch-progress')).toHaveCount(0);
    expect(await page.getByTestId('object-row').count()).toBe(objectsBefore);

    // the survey's five points: progress, then the masks in the object list labelled with the features' ids
    await page.getByTestId('prompts-from-file').click();
    await page.getByTestId('file-browser').locator('[data-testid="file-entry"][data-name="survey.geojson"]').click();
    await waitForAppEvent(page, 'batch-done', 1, 120_000);
    await expect(page.getByTestId('batch-summary')).toContainText('from 5 prompts · 1 outside the image (skipped)');
    const rows = page.getByTestId('object-row');
    await expect.poll(() => rows.count()).toBeGreaterThan(objectsBefore);
    await expect(rows.filter({ hasText: 'site-1' })).toHaveCount(1);
    await expect(rows.filter({ hasText: 'site-5' })).toHaveCount(0);
    expect(problems).toEqual([]);
  } finally {
    await backend.stop();
    await browser.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('installing an unsigned pack through the Model panel asks first, then marks it unsigned', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-unsigned-'));
  const packDir = path.join(dataDir, 'unsigned-pack');
  cpSync(path.join(repoRoot, 'native-models', 'testpack', 'pack'), packDir, { recursive: true });
  const mf = path.join(packDir, 'manifest.json');
  writeFileSync(mf, JSON.stringify({ ...(JSON.parse(readFileSync(mf, 'utf8')) as object), version: '9.9.9-e2e' }, null, 2));
  const browser = await launchChromium();
  const backend: Backend = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend, 'app-ready');
    const items = page.getByTestId('pack-item');
    await expect(items).toHaveCount(1);
    await expect(items.getByTestId('pack-signature')).toHaveText('unsigned'); // the built-in test pack: marked, not blocked
    const chooseFolder = async () => {
      await page.getByTestId('pack-install').click();
      const picker = page.getByTestId('pack-browser');
      await picker.locator('.pack-crumbs button').first().click(); // the file system's root
      for (const part of packDir.split(path.sep).filter(Boolean)) {
        await picker.locator('li button').getByText(`${part}/`, { exact: true }).click();
      }
      await picker.getByRole('button', { name: 'Install this folder' }).click();
    };

    await chooseFolder();
    const confirm = page.getByTestId('pack-confirm');
    await expect(confirm).toContainText('model pack "vantage-test-pack" is unsigned; install it only if you trust its source.');
    await expect(confirm).not.toContainText('--allow-unsigned');
    await page.getByTestId('pack-confirm-cancel').click();
    await expect(confirm).toHaveCount(0);
    await expect(items).toHaveCount(1); // nothing was installed

    await chooseFolder();
    await page.getByTestId('pack-confirm-install').click();
    await expect(confirm).toHaveCount(0);
    const installed = items.filter({ hasText: '9.9.9-e2e' });
    await expect(installed).toHaveCount(1);
    await expect(installed.getByTestId('pack-signature')).toHaveText('unsigned');
    await expect(installed.getByTestId('pack-signature')).toHaveAttribute('data-status', 'unsigned');
    await expect(page.getByRole('alert')).toHaveCount(0);
    // the two installs without confirmation were refusals (the dialog is the answer to them); nothing else went wrong
    expect(problems).toEqual(Array(2).fill('console error: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)'));
  } finally {
    await backend.stop();
    await browser.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
