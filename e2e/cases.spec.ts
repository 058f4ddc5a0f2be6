import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, repoRoot, startBackend, waitForAppEvent, watchConsole, type Backend } from './stack.js';

// Cases as a user sees them: rename, search, delete with Undo, reopen after a backend restart, relink a moved image.
const IMAGE = 'imagery/optical_utm/RGB.byte.tif';

let dataDir: string;
let browser: Browser;
let backend: Backend | null = null;
test.beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-cases-'));
  browser = await launchChromium();
});
test.afterEach(async () => {
  await backend?.stop();
  backend = null;
  await browser.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openApp(): Promise<{ page: Page; problems: string[] }> {
  backend = await startBackend(dataDir);
  const page = await browser.newPage();
  const problems = watchConsole(page);
  await page.goto(backend.url);
  await waitForAppEvent(page, 'app-ready');
  await waitForAppEvent(page, 'session-opened');
  return { page, problems };
}

const row = (page: Page, name: string) => page.getByTestId('session-row').filter({ has: page.getByText(name, { exact: true }) });

test('rename, search, delete with undo, and everything is there after a restart', async () => {
  let { page, problems } = await openApp();
  await page.getByTestId('session-new').click();
  await page.getByTestId('session-name').fill('Harbour');
  await page.getByTestId('session-create').click();
  await waitForAppEvent(page, 'session-opened', 2);
  await expect(page.getByTestId('session-row')).toHaveCount(2);

  // rename in place
  await row(page, 'Harbour').getByTestId('session-rename').click();
  await page.getByTestId('session-rename-input').fill('Harbour watch');
  await page.getByTestId('session-rename-input').press('Enter');
  await waitForAppEvent(page, 'session-renamed');
  await expect(row(page, 'Harbour watch')).toHaveCount(1);

  // search narrows the list; clearing it brings everything back
  await page.getByTestId('session-search').fill('watch');
  await expect(page.getByTestId('session-row')).toHaveCount(1);
  await page.getByTestId('session-search').fill('no such case');
  await expect(page.getByTestId('session-row')).toHaveCount(0);
  await page.getByTestId('session-search').fill('');
  await expect(page.getByTestId('session-row')).toHaveCount(2);

  // delete the open case: it leaves the list, another case opens, Undo brings it back and reopens it
  const id = await row(page, 'Harbour watch').getAttribute('data-session-id');
  await row(page, 'Harbour watch').getByTestId('session-delete').click();
  await waitForAppEvent(page, 'session-deleted');
  await expect(page.getByTestId('undo-toast')).toContainText('Deleted “Harbour watch”');
  await expect(page.getByTestId('session-row')).toHaveCount(1);
  await waitForAppEvent(page, 'session-opened', 3);
  await page.getByTestId('undo-delete').click();
  await waitForAppEvent(page, 'session-opened', 4);
  await expect(page.getByTestId('undo-toast')).toHaveCount(0);
  await expect(page.locator('body')).toHaveAttribute('data-session-id', id!);
  await expect(page.getByTestId('session-row')).toHaveCount(2);
  expect(problems).toEqual([]);

  // delete the other one for good measure (not undone), then restart the backend and reopen
  await row(page, 'Harbour watch').getByTestId('session-duplicate').click();
  await waitForAppEvent(page, 'session-opened', 5);
  await expect(row(page, 'Harbour watch (copy)')).toHaveCount(1);
  await row(page, 'Harbour watch (copy)').getByTestId('session-delete').click();
  await waitForAppEvent(page, 'session-deleted', 2);
  await page.close();
  await backend!.stop();
  ({ page, problems } = await openApp());
  await expect(row(page, 'Harbour watch')).toHaveCount(1);
  await expect(row(page, 'Harbour watch (copy)')).toHaveCount(0);
  await expect(page.getByTestId('session-row')).toHaveCount(2);

  // export the case to a folder as one .vantage file, then import it back as a new case
  const exports = path.join(dataDir, 'usb stick');
  mkdirSync(exports);
  await row(page, 'Harbour watch').getByTestId('session-export').click();
  await expect(page.locator('#fb-title')).toHaveText('Export case to folder');
  await page.getByTestId('file-browser-path').fill(exports);
  await page.getByTestId('file-browser-path').press('Enter');
  await page.getByTestId('file-browser-choose-folder').click();
  await waitForAppEvent(page, 'case-exported');
  await expect(page.getByTestId('session-notice')).toContainText('Exported Harbour watch.vantage');
  expect(existsSync(path.join(exports, 'Harbour watch.vantage'))).toBe(true);
  await page.getByTestId('session-import').click();
  await page.getByTestId('file-browser-path').fill(exports);
  await page.getByTestId('file-browser-path').press('Enter');
  await page.locator('[data-testid="file-entry"][data-name="Harbour watch.vantage"]').click();
  await waitForAppEvent(page, 'case-imported');
  await expect(row(page, 'Harbour watch')).toHaveCount(2);
  expect(problems).toEqual([]);
});

test('a moved image is flagged and relinked through the file browser', async () => {
  const [image] = requireData(IMAGE);
  const first = path.join(dataDir, 'first');
  const moved = path.join(dataDir, 'moved');
  mkdirSync(first);
  mkdirSync(moved);
  copyFileSync(image!, path.join(first, 'RGB.byte.tif'));
  let { page, problems } = await openApp();
  await page.getByTestId('open-image').click();
  await page.getByTestId('file-browser-path').fill(first);
  await page.getByTestId('file-browser-path').press('Enter');
  await page.locator('[data-testid="file-entry"][data-name="RGB.byte.tif"]').click();
  await waitForAppEvent(page, 'image-opened');
  await waitForAppEvent(page, 'tiles-loaded');
  expect(problems).toEqual([]);
  await expect(page.getByTestId('relink-prompt')).toHaveCount(0);
  await page.close();
  await backend!.stop();

  renameSync(path.join(first, 'RGB.byte.tif'), path.join(moved, 'RGB.byte.tif'));
  ({ page, problems } = await openApp());
  await expect(page.getByTestId('relink-prompt')).toContainText('RGB.byte.tif');
  await page.getByTestId('relink-image').click();
  await expect(page.locator('#fb-title')).toHaveText('Relink RGB.byte.tif');
  await page.getByTestId('file-browser-path').fill(moved);
  await page.getByTestId('file-browser-path').press('Enter');
  await page.locator('[data-testid="file-entry"][data-name="RGB.byte.tif"]').click();
  await waitForAppEvent(page, 'image-relinked');
  await expect(page.getByTestId('relink-prompt')).toHaveCount(0);
  await waitForAppEvent(page, 'tiles-loaded');
  expect(problems).toEqual([]);
});

test('after the Undo toast has gone, "Recently deleted" restores a case with its turns, or deletes one for good', async () => {
  const [image] = requireData(IMAGE);
  // a case with a question and its answer, asked from the command line into this data folder (a real model run)
  const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
  const asked = JSON.parse(
    execFileSync(process.execPath, [cli, '--data-dir', dataDir, 'ask', image!, '--box', '300,300,500,450', '--save', '--json', 'what is in <region1> ?'], {
      encoding: 'utf8',
    }),
  ) as { sessionId: string };
  const { page, problems } = await openApp();
  await page.getByTestId('session-new').click();
  await page.getByTestId('session-name').fill('Scratch');
  await page.getByTestId('session-create').click();
  await waitForAppEvent(page, 'session-opened', 2);
  await expect(page.getByTestId('session-row')).toHaveCount(2);
  const askedCase = page.locator(`[data-testid="session-row"][data-session-id="${asked.sessionId}"]`);
  await expect(askedCase).toContainText('2 turns');
  // nothing deleted yet: no section
  await expect(page.getByTestId('deleted-cases')).toHaveCount(0);

  // delete both; dismiss the toast: only "Recently deleted" can bring them back now
  await askedCase.getByTestId('session-delete').click();
  await waitForAppEvent(page, 'session-deleted');
  await row(page, 'Scratch').getByTestId('session-delete').click();
  await waitForAppEvent(page, 'session-deleted', 2);
  await expect(page.getByTestId('undo-toast')).toContainText('Deleted “Scratch”');
  await page.getByTestId('undo-toast').getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByTestId('undo-toast')).toHaveCount(0);
  await expect(page.locator(`[data-testid="session-row"][data-session-id="${asked.sessionId}"]`)).toHaveCount(0);
  await expect(page.getByTestId('deleted-toggle')).toHaveText(/Recently deleted \(2\)/);
  await page.getByTestId('deleted-toggle').click();
  const deleted = page.getByTestId('deleted-row');
  await expect(deleted).toHaveCount(2);
  const today = new Date();
  const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const askedRow = page.locator(`[data-testid="deleted-row"][data-session-id="${asked.sessionId}"]`);
  await expect(askedRow).toContainText(`deleted ${ymd(today)}`);
  await expect(askedRow).toContainText(`purged on ${ymd(new Date(today.getTime() + 30 * 86_400_000))}`);

  // deleting the open case left none, so a new one was made and opened
  await expect(page.getByTestId('session-row')).toHaveCount(1);

  // restore: back in the list and opened, with its question and answer
  await askedRow.getByTestId('deleted-restore').click();
  await waitForAppEvent(page, 'session-restored');
  await expect(page.locator('body')).toHaveAttribute('data-session-id', asked.sessionId);
  await expect(page.locator(`[data-testid="session-row"][data-session-id="${asked.sessionId}"]`)).toContainText('2 turns');
  await expect(page.getByTestId('turn-user')).toHaveCount(1);
  await expect(page.getByTestId('turn-user')).toContainText('what is in');
  await expect(page.getByTestId('turn-assistant')).toHaveCount(1);
  await expect(page.getByTestId('deleted-toggle')).toHaveText(/Recently deleted \(1\)/);

  // "Delete now" asks first; "Keep" keeps it, "Delete forever" removes it from the database
  const scratch = deleted.filter({ has: page.getByText('Scratch', { exact: true }) });
  await scratch.getByTestId('deleted-purge').click();
  await page.getByTestId('deleted-purge-cancel').click();
  await expect(deleted).toHaveCount(1);
  await scratch.getByTestId('deleted-purge').click();
  await page.getByTestId('deleted-purge-confirm').click();
  await waitForAppEvent(page, 'session-purged');
  await expect(deleted).toHaveCount(0);
  await expect(page.getByTestId('deleted-toggle')).toHaveText(/Recently deleted \(0\)/);
  expect(problems).toEqual([]);

  // after a restart the restored case is there with its turns, and the purged one is gone for good
  await page.close();
  await backend!.stop();
  const again = await openApp();
  await expect(again.page.locator(`[data-testid="session-row"][data-session-id="${asked.sessionId}"]`)).toContainText('2 turns');
  await expect(again.page.getByTestId('session-row')).toHaveCount(2);
  await expect(row(again.page, 'Scratch')).toHaveCount(0);
  await expect(again.page.getByTestId('deleted-cases')).toHaveCount(0);
  expect(again.problems).toEqual([]);
});
