import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, workerCacheDir } from '../build/bundleWorker.js';
import { runWebGpuProbe } from './webgpuProbe.js';

/**
 * The WebGPU probe runs in a child process killed at a deadline: the real probe on this machine, on a machine whose
 * only Vulkan driver is a software one (lavapipe), with a hardware driver Dawn cannot open, and a probe that hangs.
 */

let dir: string;
let probe: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-webgpu-'));
  probe = await bundleWorker('main/inference/webgpuProbeChild.ts', workerCacheDir('webgpu-probe'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a Vulkan driver manifest (ICD JSON) in a folder of its own, as the loader finds them */
function driver(name: string, library: string): string {
  const d = path.join(dir, name);
  writeFileSync(d, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } }));
  return d;
}

const hasGpu = ['/dev/nvidia0', '/dev/dri/renderD128', '/dev/dxg'].some((f) => existsSync(f));

describe('WebGPU probe', () => {
  it('answers on this machine within the deadline (no GPU: no hardware adapter, with the reason)', async () => {
    const t0 = performance.now();
    const r = await runWebGpuProbe(probe, 5_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(r.reason ?? '').not.toMatch(/did not answer/);
    if (hasGpu) return; // a GPU machine may have a hardware adapter: either answer is right there
    expect(r).toMatchObject({ hardware: false, adapter: null });
    expect(r.reason).toMatch(/\w{6,}/);
  });

  it('a software Vulkan driver (lavapipe) is not a hardware adapter, and Dawn is not asked', async () => {
    const lvp = driver('lvp_icd.x86_64.json', '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so');
    const r = await runWebGpuProbe(probe, 5_000, { ...process.env, VK_DRIVER_FILES: lvp });
    if (process.platform !== 'linux') return;
    expect(r).toEqual({ hardware: false, adapter: null, reason: 'only software Vulkan drivers (lvp_icd.x86_64.json)' });
  });

  it('a hardware driver Dawn cannot open yields no adapter, with Dawn\'s reason', async () => {
    const nv = driver('nvidia_icd.json', path.join(dir, 'libGLX_missing.so.0'));
    const r = await runWebGpuProbe(probe, 5_000, { ...process.env, VK_DRIVER_FILES: nv });
    expect(r.hardware).toBe(false);
    expect(r.reason).toMatch(/Dawn found no usable adapter|no WebGPU provider/);
  });

  it('a probe that never answers is killed at the deadline, with a clear reason', async () => {
    const pidFile = path.join(dir, 'hang.pid');
    const hang = path.join(dir, 'hang.mjs');
    // stands in for Dawn blocking in its adapter search: never answers, never exits
    writeFileSync(hang, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetInterval(() => {}, 1000);\n`);
    const t0 = performance.now();
    const r = await runWebGpuProbe(hang, 1_500);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(4_000);
    expect(r).toEqual({ hardware: false, adapter: null, reason: "the WebGPU adapter probe did not answer within 1.5 s and was stopped (Dawn's adapter search may be blocking)" });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('a probe script that is missing says to build it', async () => {
    const r = await runWebGpuProbe(path.join(dir, 'absent.mjs'), 1_000);
    expect(r.reason).toMatch(/the WebGPU probe is not built .*absent\.mjs.*; run npm run build/);
  });
});
