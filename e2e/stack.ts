import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Backend {
  url: string;
  origin: string;
  token: string;
  process: ChildProcess;
  stop(): Promise<void>;
  logs: string[];
}

/** Starts the real backend (`vantage serve`) on a fresh port with the given data folder (`serveArgs`: e.g. `--pack DIR`). */
export async function startBackend(dataDir: string, serveArgs: string[] = []): Promise<Backend> {
  const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
  if (!existsSync(cli)) throw new Error('dist/main/cli.mjs missing: run `npm run build` first');
  const child = spawn(process.execPath, [cli, '--data-dir', dataDir, 'serve', ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vantage serve printed no URL in 30 s: ${logs.join('')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`vantage serve exited (${code}): ${logs.join('')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token') ?? '',
    process: child,
    logs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.VANTAGE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Collects console errors and failed requests: any of them fails the test. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/**
 * A full restart as a user meets it: the page closes, the backend stops, a new backend (new process, new token)
 * starts on the same data folder and a new page opens on it and waits for the app to be ready.
 */
export async function restartBackend(browser: Browser, page: Page, backend: Backend, dataDir: string): Promise<{ backend: Backend; page: Page; problems: string[] }> {
  await page.close();
  await backend.stop();
  const next = await startBackend(dataDir);
  return { backend: next, ...(await openApp(browser, next, 'app-ready')) };
}

/** A new page on the app (1400×900, console watched), once the app has sent `readyEvent`. */
export async function openApp(browser: Browser, backend: Backend, readyEvent = 'session-opened'): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchConsole(page);
  await page.goto(backend.url);
  await waitForAppEvent(page, readyEvent);
  return { page, problems };
}

/** Waits for an app event the renderer records in window.__vantageEvents (never a sleep). */
export async function waitForAppEvent(page: Page, name: string, count = 1, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    ([n, c]) => ((globalThis as unknown as { __vantageEvents?: string[] }).__vantageEvents ?? []).filter((e) => e === n).length >= (c as number),
    [name, count] as const,
    { timeout },
  );
}

/** Opens an image the way a user does in browser mode: the backend file browser, a typed folder, a click on the file. */
export async function openImageThroughBrowser(page: Page, file: string, openedCount = 1): Promise<void> {
  await page.getByTestId('open-image').click();
  await page.getByTestId('file-browser-path').fill(path.dirname(file));
  await page.getByTestId('file-browser-path').press('Enter');
  await page.getByTestId('file-browser').locator(`[data-testid="file-entry"][data-name="${path.basename(file)}"]`).click();
  await waitForAppEvent(page, 'image-opened', openedCount);
}

/** A fresh data folder with its backend and Chromium, the app open on them; `close` ends all three and removes the folder. */
export async function openStack(prefix: string): Promise<{ dataDir: string; page: Page; problems: string[]; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const browser = await launchChromium();
  const backend = await startBackend(dataDir).catch(async (e: unknown) => {
    await browser.close();
    throw e;
  });
  const close = async () => {
    await browser.close();
    await backend.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    return { dataDir, ...(await openApp(browser, backend)), close };
  } catch (e) {
    await close();
    throw e;
  }
}
