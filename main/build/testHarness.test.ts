import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../testing/data.js';

/** The harness cannot pass by running nothing: a typo'd suite and a forgotten test.only fail instead. */
describe('test harness honesty', () => {
  it('npm test refuses an unknown suite name with one line listing the suites, instead of running nothing', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'main/build/test.mjs'), 'intergration'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'npm test: no suite named "intergration"; the suites are "build", "typecheck", "typecheck (renderer)", "lint", "unit", "integration", "e2e"',
    );
    expect(r.stdout).not.toContain('===');
  });

  it("under CI the project's Playwright config refuses a spec left with test.only; locally it runs focused", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vantage-forbid-only-'));
    try {
      symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'focused.spec.ts'), "import { test } from '@playwright/test';\ntest.only('focused', () => {});\ntest('other', () => {});\n");
      writeFileSync(path.join(dir, 'pw.config.ts'), `import base from ${JSON.stringify(path.join(repoRoot, 'playwright.config.ts'))};\nexport default { ...base, testDir: ${JSON.stringify(dir)} };\n`);
      const list = (ci: boolean) => {
        const env = { ...process.env };
        delete env.CI;
        return spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/@playwright/test/cli.js'), 'test', '-c', path.join(dir, 'pw.config.ts'), '--list'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: ci ? { ...env, CI: 'true' } : env,
        });
      };
      const ci = list(true);
      expect(ci.status).toBe(1);
      expect(ci.stdout + ci.stderr).toContain("item focused with '.only' is not allowed");
      expect(list(false).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
