import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | null = null;

/**
 * The application folder (the one holding Vantage's package.json), found from this module's location so the same
 * code works from sources (main/), bundles (dist/main/) and a packaged app.
 */
export function appRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'vantage') return (cachedRoot = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    dir = path.dirname(dir);
  }
  throw new Error('Vantage application folder (package.json named "vantage") not found above ' + fileURLToPath(import.meta.url));
}

/** Where the database and caches live unless --data-dir / VANTAGE_DATA_DIR says otherwise. */
export function defaultDataDir(): string {
  if (process.env.VANTAGE_DATA_DIR) return path.resolve(process.env.VANTAGE_DATA_DIR);
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(homedir(), 'AppData', 'Roaming'), 'Vantage');
  if (process.platform === 'darwin') return path.join(homedir(), 'Library', 'Application Support', 'Vantage');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(homedir(), '.local', 'share'), 'vantage');
}

export const builtinPackDir = () => path.join(appRoot(), 'native-models', 'testpack', 'pack');
export const rendererDir = () => path.join(appRoot(), 'dist', 'renderer');
export const workerPath = (name: string) => path.join(appRoot(), 'dist', 'main', `${name}.mjs`);

export function appVersion(): string {
  return (JSON.parse(readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
