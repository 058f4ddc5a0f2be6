import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron, expect, test } from '@playwright/test';
import { repoRoot, waitForAppEvent } from './stack.js';

// Runs where the Electron binary exists (not on machines that cannot download it: there the loopback e2e covers the stack).
function electronBinary(): string | null {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' ? p : null;
  } catch {
    return null;
  }
}
const binary = electronBinary();
test.skip(binary === null, 'Electron binary not installed here (download skipped); the Chromium e2e covers the same stack');

test('desktop window: sandboxed renderer, bridge of task functions, no navigation away', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-electron-'));
  const app = await _electron.launch({ executablePath: binary!, args: [repoRoot], env: { ...process.env, VANTAGE_DATA_DIR: dataDir } });
  try {
    const page = await app.firstWindow();
    await waitForAppEvent(page, 'app-ready');
    const shape = await page.evaluate(() => {
      const g = globalThis as unknown as { require?: unknown; process?: unknown; vantageBridge?: { calls: Record<string, unknown> } };
      return { require: typeof g.require, process: typeof g.process, calls: Object.keys(g.vantageBridge?.calls ?? {}) };
    });
    expect(shape.require).toBe('undefined');
    expect(shape.process).toBe('undefined');
    expect(shape.calls).toContain('sessions.list');
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
    });
    expect(page.url()).toMatch(/^vantage:\/\/app\//);
    await expect(page.getByTestId('status-pack')).toContainText('vantage-test-pack');
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
