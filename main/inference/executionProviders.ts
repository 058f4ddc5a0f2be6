import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { VantageError } from '../contract/errors.js';

/**
 * The one module that knows about onnxruntime execution providers and creates sessions.
 * Ladder: cuda → webgpu → cpu. Each stage's session is created on the best provider that accepts it;
 * every provider that was skipped or failed keeps the reason, so the UI can say why the model is slow.
 */

export const PROVIDER_NAMES = ['cuda', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderStatus {
  name: ProviderName;
  available: boolean;
  reason: string | null;
}

export interface ProviderOptions {
  /** VANTAGE_EP: restricts the ladder to one provider (failing loudly if it cannot be used) */
  forced?: string | undefined;
  /**
   * Whether the host knows a GPU adapter exists (e.g. Electron's GPU info). WebGPU is otherwise skipped: on a
   * machine without a usable adapter Dawn's adapter discovery can block the worker thread inside native code for
   * a long time (or crash it), and nothing on the JS side can interrupt a synchronous session creation.
   */
  webgpuAdapterKnown?: boolean;
}

function bindingDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const entry = req.resolve('onnxruntime-node');
    return path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

function cudaLibraryName(): string {
  return process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

/** Which providers could be tried, before any session is created. Pure inspection: never touches a GPU. */
export function probeProviders(opts: ProviderOptions = {}): ProviderStatus[] {
  const forced = parseForced(opts.forced);
  let listed: { name: string; bundled: boolean }[] = [];
  try {
    listed = ort.listSupportedBackends();
  } catch {
    listed = [{ name: 'cpu', bundled: true }];
  }
  const has = (n: string) => listed.find((b) => b.name === n);
  const dir = bindingDir();

  const statuses: ProviderStatus[] = [];
  for (const name of PROVIDER_NAMES) {
    let reason: string | null = null;
    if (forced && forced !== name) reason = `not selected (VANTAGE_EP=${forced})`;
    else if (name === 'cuda') {
      const b = has('cuda');
      if (!b) reason = 'this onnxruntime-node build has no CUDA provider';
      else if (!b.bundled && !(dir && existsSync(path.join(dir, cudaLibraryName()))))
        reason = `CUDA provider library not installed (${cudaLibraryName()} not found beside the onnxruntime binding)`;
    } else if (name === 'webgpu') {
      if (!has('webgpu')) reason = 'this onnxruntime-node build has no WebGPU provider';
      else if (!opts.webgpuAdapterKnown && forced !== 'webgpu')
        reason = 'no GPU adapter reported by the host (set VANTAGE_EP=webgpu to try it anyway)';
    }
    statuses.push({ name, available: reason === null, reason });
  }
  return statuses;
}

function parseForced(v: string | undefined): ProviderName | null {
  if (v === undefined || v === '') return null;
  const low = v.toLowerCase();
  if ((PROVIDER_NAMES as readonly string[]).includes(low)) return low as ProviderName;
  throw new VantageError('BAD_INPUT', `VANTAGE_EP="${v}" is not an execution provider; use one of ${PROVIDER_NAMES.join(', ')} (or unset it for automatic choice)`);
}

/** onnxruntime's message without its source-file preamble ("…/provider_bridge_ort.cc:1988 … : FAIL : "). */
export function shortOrtError(msg: string): string {
  const line = msg.split('\n')[0] ?? msg;
  const m = /\[ONNXRuntimeError\] : \d+ : \w+ : (.*)$/.exec(line);
  return (m?.[1] ?? line).trim();
}

function sessionOptions(ep: ProviderName): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    ep === 'cuda' ? [{ name: 'cuda', deviceId: 0 } as ort.InferenceSession.ExecutionProviderConfig] : [ep];
  return { executionProviders, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
}

export interface StageSession {
  session: ort.InferenceSession;
  provider: ProviderName;
}

/**
 * Creates sessions one at a time (serialised: parallel creation on one GPU only fights over memory and makes
 * failures ambiguous) and walks the ladder per stage, demoting a provider for later stages once it has failed.
 */
export class SessionFactory {
  readonly providers: ProviderStatus[];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ProviderOptions = {}) {
    this.providers = probeProviders(opts);
    if (opts.forced && !this.providers.some((p) => p.available)) {
      const p = this.providers.find((s) => s.name === opts.forced?.toLowerCase());
      throw new VantageError('UNSUPPORTED', `VANTAGE_EP=${opts.forced} cannot be used: ${p?.reason ?? 'unavailable'}; unset it or choose one of ${PROVIDER_NAMES.join(', ')}`);
    }
  }

  create(stage: string, file: string): Promise<StageSession> {
    const run = this.queue.then(() => this.createNow(stage, file));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async createNow(stage: string, file: string): Promise<StageSession> {
    const errors: string[] = [];
    for (const p of this.providers) {
      if (!p.available) continue;
      try {
        const session = await ort.InferenceSession.create(file, sessionOptions(p.name));
        return { session, provider: p.name };
      } catch (err) {
        const msg = shortOrtError((err as Error).message ?? String(err));
        errors.push(`${p.name}: ${msg}`);
        if (p.name !== 'cpu') {
          // A GPU provider that cannot build one stage is not trusted with the next ones either.
          p.available = false;
          p.reason = `failed to create the ${stage} session: ${msg}`;
        }
      }
    }
    throw new VantageError('INTERNAL', `could not create the ${stage} session on any execution provider (${errors.join('; ') || 'none available'})`);
  }
}
