#!/usr/bin/env node
// `vantage` / `npx vantage`: runs the built CLI bundle (built by `npm run build`, also run on install by `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/main/cli.mjs', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('vantage: the CLI is not built yet; run `npm run build` in the Vantage folder\n');
  process.exit(2);
}
await import(pathToFileURL(cli).href);
