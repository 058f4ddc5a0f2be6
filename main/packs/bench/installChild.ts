import { readFileSync } from 'node:fs';
import { VantageError } from '../../contract/errors.js';
import { PackStore } from '../packStore.js';

/**
 * `node installChild.mjs DATA_DIR SOURCE`: installs one pack in a process of its own and prints one JSON line with
 * what it cost — peak RSS before and after (process.resourceUsage().maxRSS, KiB), bytes this process wrote
 * (/proc/self/io wchar, Linux) and the time. Used by the pack install tests (bounds asserted) and bench:packs.
 */
const wchar = (): number | null => {
  try {
    return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
  } catch {
    return null;
  }
};

const [dataDir, source] = process.argv.slice(2);
const store = new PackStore(dataDir!);
const baseKiB = Math.round(process.memoryUsage().rss / 1024); // resident now: the peak after minus this is the install's
const w0 = wchar();
const t0 = performance.now();
let result: Record<string, unknown>;
try {
  const p = await store.install(source!, { allowUnsigned: true }); // signatures are not what is measured
  result = { ok: true, name: p.name, version: p.version, sizeBytes: p.sizeBytes };
} catch (err) {
  result = { ok: false, code: err instanceof VantageError ? err.code : 'INTERNAL', error: err instanceof Error ? err.message : String(err) };
}
const w1 = wchar();
const out = { ...result, ms: Math.round(performance.now() - t0), baseKiB, peakKiB: process.resourceUsage().maxRSS, writtenBytes: w0 === null || w1 === null ? null : w1 - w0 };
process.stdout.write(`${JSON.stringify(out)}\n`);
