import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { bundleWorker, workerCacheDir } from '../../build/bundleWorker.js';

export interface InstallReport {
  ok: boolean;
  code?: string;
  error?: string;
  name?: string;
  sizeBytes?: number;
  ms: number;
  /** RSS (KiB) just before the install started, and the process's peak RSS at its end */
  baseKiB: number;
  peakKiB: number;
  /** bytes the install wrote (/proc/self/io wchar; null off Linux) */
  writtenBytes: number | null;
}

/** Bundles installChild.ts (Node 20 runs no TypeScript); returns the bundle's path. */
export const buildInstallChild = (): Promise<string> => bundleWorker('main/packs/bench/installChild.ts', workerCacheDir('packs'));

/** Installs `source` into `dataDir` in a child process of its own; what it cost comes back. */
export async function installInChild(child: string, dataDir: string, source: string, timeoutMs = 120_000): Promise<InstallReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [child, dataDir, source], { timeout: timeoutMs, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as InstallReport;
}
