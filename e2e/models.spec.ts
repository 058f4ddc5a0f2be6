import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { dataRoot, launchChromium, missingData, openImageThroughBrowser, startBackend, waitForAppEvent, watchConsole, type Backend } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const missing = missingData(IMAGE);
if (missing && process.env.CI === 'true') throw new Error(`${missing}: CI must have ../shared/data`);
test.skip(missing !== null, missing ?? '');

test('model packs panel, EP per stage, instant mask preview on a click, a task preset without text', async () => {
  const file = path.join(dataRoot(), IMAGE);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-models-'));
  const browser = await launchChromium();
  const backend: Backend = await startBackend(dataDir);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watchConsole(page);
    await page.goto(backend.url);
    await waitForAppEvent(page, 'app-ready');
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

    await openImageThroughBrowser(page, file);

    // a point gives a mask preview at once (grounding + pixel stages), before any question is sent
    const map = page.getByTestId('map');
    const box = (await map.boundingBox())!;
    await page.getByTestId('tool-point').click();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitForAppEvent(page, 'region-drawn');
    await expect(page.getByTestId('instant-mask-info')).toContainText('preview mask');

    // a preset is a full question: scene classification sends with an empty text box
    await page.getByTestId('task-mode').selectOption('scene');
    await expect(page.getByTestId('chat-send')).toBeEnabled();
    await page.getByTestId('chat-send').click();
    await waitForAppEvent(page, 'answer-done', 1, 120_000);
    await expect(page.getByTestId('turn-assistant').last()).toHaveAttribute('data-status', 'complete');
    await expect(page.getByTestId('instant-mask-info')).toHaveCount(0); // the preview goes once the regions are sent
    expect(problems).toEqual([]);
  } finally {
    await backend.stop();
    await browser.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
