// `npm start`: the Electron window where the Electron binary exists; otherwise the same services behind the
// loopback server, opened in Chromium's app mode. Extra arguments go to `vantage serve` (e.g. -- --pack DIR).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromiumExitReason, displayProblem } from './chromiumExit.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

function electronBinary() {
  try {
    const p = require('electron'); // the package exports the binary's path, and throws when it was never downloaded
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function chromiumBinary() {
  const candidates = [process.env.VANTAGE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium'];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

const electron = electronBinary();
if (electron && !process.env.VANTAGE_BROWSER_MODE) {
  console.log('starting the Vantage desktop app (Electron)');
  const child = spawn(electron, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log('Electron binary not present: starting Vantage behind the loopback server (127.0.0.1, per-launch token)');
  const server = spawn(process.execPath, [path.join(root, 'dist', 'main', 'cli.mjs'), 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => server.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.on('exit', (code) => process.exit(code ?? 0));
  const lines = createInterface({ input: server.stdout });
  lines.once('line', (url) => {
    console.log(`Vantage is running at ${url}`);
    const chromium = chromiumBinary();
    if (!chromium) {
      console.log('no Chromium found (apt-get install chromium): open the URL above in a browser on this machine');
      return;
    }
    const noDisplay = displayProblem();
    if (noDisplay) {
      console.log(`Chromium not started: ${noDisplay}. Open the URL above in a browser on this machine, or start with a display (e.g. xvfb-run npm start) — Ctrl+C to stop`);
      return;
    }
    const profile = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir() || tmpdir(), '.cache'), 'vantage', 'chromium-profile');
    mkdirSync(profile, { recursive: true });
    const flags = [
      `--app=${url}`,
      `--user-data-dir=${profile}`,
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--window-size=1440,900',
    ];
    if (process.getuid?.() === 0) flags.push('--no-sandbox'); // Chromium refuses to run as root with its sandbox
    const browser = spawn(chromium, flags, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    browser.stderr.on('data', (d) => (stderr = (stderr + d).slice(-16384))); // only the tail explains an exit
    browser.on('exit', (code) => {
      if (code !== 0) {
        const why = chromiumExitReason(stderr);
        console.log(`Chromium exited (${code})${why ? `: ${why}` : ''}; the server keeps running at ${url} — Ctrl+C to stop`);
      }
      else stop(); // the app window was closed
    });
  });
}
