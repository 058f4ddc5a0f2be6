import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import 'onnxruntime-node'; // loads libonnxruntime.so.1 first: the addon links against that same library

/**
 * The IO-binding addon (native-models/ortbinding/vantage_ort.cc, built by main/build/buildNative.mjs into
 * dist/native/vantage_ort.node). It keeps tensors on the execution provider's device between runs, binds one
 * tensor as both input and output (the KV cache updated in place) and can run CUDA graphs. Optional: when it is
 * missing or disabled the pipeline uses the stock onnxruntime-node binding and says why.
 */

export type NativeType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
export type NativeArray = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

export interface HostTensor {
  type: NativeType;
  dims: number[];
  data: NativeArray;
}

export interface DeviceTensor {
  readonly type: NativeType;
  readonly dims: number[];
  /** 'cuda' or 'cpu' (where the memory is), 'disposed' after dispose() */
  readonly location: string;
  /** host copy of elements [offset, offset + count) */
  read(offset?: number, count?: number): NativeArray;
  /** host → tensor at element offset */
  write(data: NativeArray, offset?: number): void;
  fill(byte?: number): void;
  dispose(): void;
}

export interface NativeValueInfo {
  name: string;
  type: string;
  dims: (number | string)[];
}

export interface NativeSession {
  readonly provider: 'cpu' | 'cuda';
  readonly cudaGraph: boolean;
  readonly inputs: NativeValueInfo[];
  readonly outputs: NativeValueInfo[];
  /** zero-filled tensor on the session's device */
  alloc(type: NativeType, dims: number[]): DeviceTensor;
  run(
    feeds: Record<string, HostTensor | DeviceTensor>,
    outputs: Record<string, 'host' | 'device' | DeviceTensor>,
    options?: { graphId?: number },
  ): Promise<Record<string, HostTensor | DeviceTensor>>;
  release(): void;
}

export interface NativeOrt {
  version(): string;
  providers(): string[];
  cudaInfo(): { ok: boolean; reason?: string; free?: number; total?: number };
  Session: new (
    /** a graph file, or a graph's bytes (external weights then come from session.model_external_initializers_file_folder_path) */
    file: string | Buffer,
    /** sessionConfig: onnxruntime session config entries (e.g. session.intra_op.allow_spinning: '0') */
    opts: { provider: 'cpu' | 'cuda'; deviceId?: number; cudaGraph?: boolean; intraOpThreads?: number; sessionConfig?: Record<string, string> },
  ) => NativeSession;
  DeviceTensor: abstract new () => DeviceTensor;
}

export interface NativeLoad {
  addon: NativeOrt | null;
  /** why the addon is not used (null when loaded) */
  reason: string | null;
  file: string | null;
}

/**
 * VANTAGE_NATIVE_ADDON, else dist/native/vantage_ort.node in the nearest folder above this module that has one
 * (a bundle in dist/main, a test bundle under node_modules/.cache, or the sources under main/inference).
 */
function addonFile(): string | null {
  const given = process.env.VANTAGE_NATIVE_ADDON;
  if (given) return existsSync(given) ? given : null;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    for (const f of [path.join(dir, 'native', 'vantage_ort.node'), path.join(dir, 'dist', 'native', 'vantage_ort.node')]) if (existsSync(f)) return f;
    dir = path.dirname(dir);
  }
  return null;
}

let cached: NativeLoad | null = null;

/** Loads the addon once per thread. VANTAGE_NATIVE=0 turns it off (the stock binding is then used everywhere). */
export function loadNativeOrt(): NativeLoad {
  if (cached) return cached;
  if (process.env.VANTAGE_NATIVE === '0') return (cached = { addon: null, reason: 'turned off (VANTAGE_NATIVE=0)', file: null });
  const file = addonFile();
  if (!file) {
    return (cached = { addon: null, reason: 'native addon not built (dist/native/vantage_ort.node; run npm run build)', file: null });
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeOrt;
    const v = addon.version();
    if (!v.startsWith('1.29.')) return (cached = { addon: null, reason: `native addon linked to onnxruntime ${v}, expected 1.29`, file });
    return (cached = { addon, reason: null, file });
  } catch (err) {
    return (cached = { addon: null, reason: `native addon failed to load: ${(err as Error).message.split('\n')[0]}`, file });
  }
}

export function isDeviceTensor(v: unknown, addon: NativeOrt): v is DeviceTensor {
  return v instanceof addon.DeviceTensor;
}
