import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { WebGpuProbe } from './webgpuProbe.js';

/**
 * The WebGPU probe's child process (webgpuProbe.ts runs it and kills it at a deadline): does this machine have a
 * hardware adapter WebGPU can use? On Linux the Vulkan drivers decide first — a machine with only a software
 * driver (lavapipe/llvmpipe, SwiftShader) has none, and Dawn is not even asked; with a hardware driver Dawn is
 * asked for real (onnxruntime's WebGPU provider creates a one-node session, Vulkan restricted to the hardware
 * drivers). Dawn's adapter search may block inside native code: that is why it runs here and not in the app.
 */

/** Relu on a float[1]: the smallest graph that makes onnxruntime's WebGPU provider find an adapter and a device */
const PROBE_MODEL = 'CAgSB3ZhbnRhZ2U6NwoMCgF4EgF5IgRSZWx1EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0=';

const SOFTWARE_DRIVER = /lvp|lavapipe|llvmpipe|swiftshader|swrast|softpipe/i;

interface VulkanDriver {
  file: string;
  software: boolean;
}

/** the Vulkan loader's driver manifests (VK_DRIVER_FILES / VK_ICD_FILENAMES, else the standard icd.d folders) */
function vulkanDrivers(env: NodeJS.ProcessEnv): VulkanDriver[] {
  const given = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  const home = homedir();
  const dirs = given
    ? given.split(path.delimiter).filter(Boolean)
    : [
        path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'vulkan/icd.d'),
        '/etc/xdg/vulkan/icd.d',
        '/etc/vulkan/icd.d',
        path.join(env.XDG_DATA_HOME || path.join(home, '.local/share'), 'vulkan/icd.d'),
        '/usr/local/share/vulkan/icd.d',
        '/usr/share/vulkan/icd.d',
      ];
  const files: string[] = [];
  for (const d of dirs) {
    try {
      if (statSync(d).isDirectory()) {
        for (const f of readdirSync(d).sort()) if (f.endsWith('.json')) files.push(path.join(d, f));
      } else {
        files.push(d);
      }
    } catch {
      // a folder that does not exist holds no driver
    }
  }
  return files.map((file) => {
    let library = '';
    try {
      library = String((JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { library_path?: unknown } }).ICD?.library_path ?? '');
    } catch {
      // an unreadable manifest is judged by its name alone
    }
    return { file, software: SOFTWARE_DRIVER.test(path.basename(file)) || SOFTWARE_DRIVER.test(library) };
  });
}

async function probe(): Promise<WebGpuProbe> {
  const { createRequire } = await import('node:module');
  if (process.platform === 'linux') {
    const drivers = vulkanDrivers(process.env);
    const hardware = drivers.filter((d) => !d.software);
    if (drivers.length === 0) return { hardware: false, adapter: null, reason: 'no Vulkan driver installed' };
    if (hardware.length === 0) {
      return { hardware: false, adapter: null, reason: `only software Vulkan drivers (${drivers.map((d) => path.basename(d.file)).join(', ')})` };
    }
    // Dawn sees only the hardware drivers, so a software adapter cannot answer for them
    const files = hardware.map((d) => d.file).join(path.delimiter);
    process.env.VK_DRIVER_FILES = files;
    process.env.VK_ICD_FILENAMES = files;
  }
  const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
  if (!ort.listSupportedBackends().some((b) => b.name === 'webgpu')) {
    return { hardware: false, adapter: null, reason: 'this onnxruntime-node build has no WebGPU provider' };
  }
  try {
    const s = await ort.InferenceSession.create(Buffer.from(PROBE_MODEL, 'base64'), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
    await s.release();
  } catch (err) {
    const line = (err as Error).message.split('\n')[0] ?? '';
    const cause = /Failed to get a WebGPU (adapter|device)[^.]*/.exec(line)?.[0] ?? line.slice(-160);
    return { hardware: false, adapter: null, reason: `Dawn found no usable adapter: ${cause.trim()}` };
  }
  const adapter = process.platform === 'linux' ? `Vulkan (${process.env.VK_DRIVER_FILES!.split(path.delimiter).map((f) => path.basename(f)).join(', ')})` : process.platform === 'win32' ? 'D3D12' : 'Metal';
  return { hardware: true, adapter, reason: null };
}

const send = (r: WebGpuProbe) => {
  if (process.send) process.send(r, () => process.exit(0));
  else {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }
};
// the parent gone (its deadline passed, or it quit): nothing to answer
process.on('disconnect', () => process.exit(0));
probe().then(send, (err: unknown) => send({ hardware: false, adapter: null, reason: `the probe failed: ${(err as Error).message.split('\n')[0]}` }));
