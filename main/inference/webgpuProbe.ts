import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What the WebGPU probe found: whether a hardware adapter exists (a software Vulkan driver is not one). */
export interface WebGpuProbe {
  hardware: boolean;
  /** the adapter's backend in words, when one was found */
  adapter: string | null;
  /** why there is none (shown in WebGPU's provider status); null when one was found */
  reason: string | null;
}

/** Dawn's adapter search normally answers in well under a second; past this the probe child is killed. */
export const WEBGPU_PROBE_DEADLINE_MS = 5_000;

const cache = new Map<string, Promise<WebGpuProbe>>();

/**
 * Runs the probe (webgpuProbeChild.ts, bundled as dist/main/webgpuProbe.mjs) in a child process and kills it at the
 * deadline: Dawn's adapter search can block inside native code, where nothing in the app could interrupt it. The
 * answer is cached per script (one probe per process); it never rejects.
 */
export function probeWebGpu(script: string): Promise<WebGpuProbe> {
  let p = cache.get(script);
  if (!p) cache.set(script, (p = runWebGpuProbe(script)));
  return p;
}

/** One probe run, uncached (tests give it another environment, e.g. VK_DRIVER_FILES, or a script that hangs). */
export function runWebGpuProbe(script: string, deadlineMs = WEBGPU_PROBE_DEADLINE_MS, env: NodeJS.ProcessEnv = process.env): Promise<WebGpuProbe> {
  const none = (reason: string): WebGpuProbe => ({ hardware: false, adapter: null, reason });
  if (!existsSync(script)) return Promise.resolve(none(`the WebGPU probe is not built (${script}); run npm run build`));
  return new Promise<WebGpuProbe>((resolve) => {
    const child = fork(script, [], {
      // in Electron, process.execPath is the app: run it as plain Node for the probe
      env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    let settled = false;
    const finish = (r: WebGpuProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => {
      const s = Math.round(deadlineMs / 100) / 10;
      finish(none(`the WebGPU adapter probe did not answer within ${s} s and was stopped (Dawn's adapter search may be blocking)`));
    }, deadlineMs);
    child.once('message', (m: unknown) => {
      const r = m as Partial<WebGpuProbe> | null;
      if (r && typeof r.hardware === 'boolean') finish({ hardware: r.hardware, adapter: r.adapter ?? null, reason: r.reason ?? null });
      else finish(none('the WebGPU probe answered outside its protocol'));
    });
    child.once('error', (err) => finish(none(`the WebGPU probe could not start (${err.message})`)));
    // 'close' comes after the IPC channel is drained, so an answer sent just before exiting is seen first
    child.once('close', (code, signal) => finish(none(`the WebGPU probe stopped (${signal ? `signal ${signal}` : `exit code ${code}`}) without answering`)));
  });
}
