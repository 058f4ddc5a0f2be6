import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServices, type Services } from '../boot.js';

/**
 * The services a one-shot command (ask, segment) runs on: the user's data folder when it stores its result
 * (--save), otherwise a throw-away folder that still loads the pack the user selected in the app (or --pack).
 * `close` stops the services and removes the throw-away folder. `selectedPack: false` (a command that needs a pack
 * only when --pack names one) leaves the user's data folder untouched without --save.
 */
export async function commandServices(
  dataDir: string,
  save: boolean,
  packDir: string | undefined,
  name: string,
  selectedPack = true,
): Promise<{ services: Services; close: () => Promise<void> }> {
  const scratch = save ? null : mkdtempSync(path.join(tmpdir(), `vantage-${name}-`));
  let pack = packDir;
  if (scratch && !pack && selectedPack) {
    const selected = createServices({ dataDir, mode: 'browser' });
    try {
      pack = selected.models.currentDir();
    } finally {
      await selected.close();
    }
  }
  const services = createServices({ dataDir: scratch ?? dataDir, mode: 'browser', ...(pack ? { packDir: pack } : {}) });
  return {
    services,
    close: async () => {
      await services.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}
