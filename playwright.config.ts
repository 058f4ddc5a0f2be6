import { defineConfig } from '@playwright/test';

// The e2e suite drives the real stack: `vantage serve` (real services, SQLite, onnxruntime-node) in Debian's Chromium.
export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  // a test.only left in a spec would silently skip the rest of the suite in CI
  forbidOnly: !!process.env.CI,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1400, height: 900 },
  },
});
