import * as ort from 'onnxruntime-node';
import { VantageError } from '../contract/errors.js';

/**
 * Builds feeds in the dtype each graph declares, so a pack may export flags/labels as float or int64 and its
 * float tensors as float16 (manifest `dtype`) without the pipeline caring.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return exp < -10 ? sign : sign | ((mant | 0x800000) >>> (1 - exp + 13));
  if (exp >= 0x1f) return sign | 0x7c00 | (((x >>> 23) & 0xff) === 0xff && mant ? 0x200 : 0);
  return sign | (exp << 10) | (mant >>> 13);
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

export function inputType(session: ort.InferenceSession, name: string): string {
  const idx = session.inputNames.indexOf(name);
  const meta = session.inputMetadata[idx];
  if (idx < 0 || !meta) {
    throw new VantageError('BAD_INPUT', `model graph has no input "${name}" (it has ${session.inputNames.join(', ')}); the pack does not follow the pack contract`);
  }
  return meta.isTensor ? meta.type : 'float32';
}

/** A tensor for `name` from numbers held as float32 (or int values for integer inputs). */
export function feed(session: ort.InferenceSession, name: string, data: Float32Array | number[], dims: number[]): ort.Tensor {
  const type = inputType(session, name);
  const n = data.length;
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', data instanceof Float32Array ? data : Float32Array.from(data), dims);
    case 'float16': {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = toHalf(data[i]!);
      return new ort.Tensor('float16', h, dims);
    }
    case 'int64': {
      const b = new BigInt64Array(n);
      for (let i = 0; i < n; i++) b[i] = BigInt(Math.round(data[i]!));
      return new ort.Tensor('int64', b, dims);
    }
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(data, (v) => Math.round(v)), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(data, (v) => (v ? 1 : 0)), dims);
    default:
      throw new VantageError('UNSUPPORTED', `model input "${name}" has type ${type}; supported: float32, float16, int64, int32, bool`);
  }
}

/** Float32 view of an output tensor (converting float16). */
export function floats(t: ort.Tensor | undefined, name: string): Float32Array {
  if (!t) throw new VantageError('INTERNAL', `model graph did not return "${name}"; the pack does not follow the pack contract`);
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    const h = t.data as Uint16Array;
    const out = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) out[i] = fromHalf(h[i]!);
    return out;
  }
  throw new VantageError('INTERNAL', `model output "${name}" has type ${t.type}; expected float32 or float16`);
}
