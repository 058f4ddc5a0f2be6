import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, startBackend, type Backend } from './stack.js';

const A = 'imagery/bitemporal_naip/naip_2009-08-18.tif';
const B = 'imagery/bitemporal_naip/naip_2020-08-31.tif';
const [fileA, fileB] = requireData(A, B);
test.setTimeout(40_000);

test('what changed here? streams a caption of the pair (bitemporal mode of the test pack), stored in the case', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-change-caption-'));
  const browser = await launchChromium();
  let backend: Backend | null = await startBackend(dataDir);
  try {
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, fileA!, 1);
    await openImageThroughBrowser(page, fileB!, 2);
    await page.getByTestId('compare-open').click();

    await page.getByTestId('what-changed-ask').click();
    const answer = page.getByTestId('what-changed-answer');
    await expect(answer).toHaveAttribute('aria-busy', 'false', { timeout: 20_000 });
    await expect(answer).toContainText('whole pair');
    await expect(answer).toContainText('not trained on pairs');
    const text = (await answer.textContent()) ?? '';
    expect(text.split(':').slice(1).join(':').trim().length).toBeGreaterThan(0);
    // the caption reads as the chat does: the test pack's "<p> … </p> <SEG>" markup cleaned away
    expect(text).not.toMatch(/<\/?p>|<SEG>|<\/s>/);
    expect(problems).toEqual([]);

    await backend.stop();
    backend = null;
    const db = new Database(path.join(dataDir, 'vantage.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT text FROM turns WHERE text LIKE 'Change caption:%'").get() as { text: string } | undefined;
      expect(row?.text).toMatch(/naip_2009-08-18\.tif .* → naip_2020-08-31\.tif .*what changed between the two images \?/);
    } finally {
      db.close();
    }
  } finally {
    await browser.close();
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
