import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root (this file is db/testing/writerProcess.ts; it runs from source, under vitest). */
const appRoot = () => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Bundles db/durabilityWriter.ts into a folder under node_modules/.cache (inside the app folder, so the bundle finds
 * better-sqlite3 and the migrations the way the app does) and runs it as a plain Node child process.
 */
export async function bundleWriter(): Promise<{ script: string; dispose(): void }> {
  const cache = path.join(appRoot(), 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, 'vantage-writer-'));
  const script = path.join(dir, 'durabilityWriter.mjs');
  await build({
    entryPoints: [path.join(appRoot(), 'db', 'durabilityWriter.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return { script, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WriterLog {
  ready: string | null;
  turns: string[];
  assistantTurns: string[];
  masks: string[];
  done: string[];
}

/** Collects the child's acknowledgement lines as they arrive (only complete lines count). */
export function track(child: ChildProcess): { log: WriterLog; stderr: () => string; onLine(fn: (l: string) => void): void } {
  const log: WriterLog = { ready: null, turns: [], assistantTurns: [], masks: [], done: [] };
  const listeners: ((l: string) => void)[] = [];
  let buf = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const [kind, a, b] = line.split(' ');
      if (kind === 'ready') log.ready = a!;
      if (kind === 'turn') {
        log.turns.push(a!);
        log.assistantTurns.push(b!);
      }
      if (kind === 'mask') log.masks.push(a!);
      if (kind === 'done') log.done.push(a!);
      for (const fn of listeners) fn(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return { log, stderr: () => err, onLine: (fn) => listeners.push(fn) };
}

export function startWriter(script: string, dbFile: string, label: string, count?: number): ChildProcess {
  const args = [script, dbFile, label, ...(count === undefined ? [] : [String(count)])];
  return spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('close', (code, signal) => resolve({ code, signal }));
  });
}
