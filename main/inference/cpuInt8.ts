import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

/**
 * int8 compute for a pack's decoder on the CPU (issue 16): onnxruntime's MatMulNBits takes `accuracy_level` as a node
 * attribute only (no session option overrides it), and a pack is exported once for every device. So when the
 * decoder runs on the CPU, the app hands onnxruntime the graph (the small .onnx, read into memory; the weights stay
 * in the pack's files) with accuracy_level 4 on every MatMulNBits node that has none:
 * activations quantised to int8 per block and integer dot products (MLAS CompInt8, what llama.cpp's Q4_0 path does).
 * Measured on TinyLlama shapes (2-core AVX2 VM, 3 interleaved pairs): decode ×3.06 at 128 and 2 k, prefill ×0.95,
 * top-1 agreement 32/32, max |Δlogit| 4.8e-4 (README Benchmarks). VANTAGE_CPU_INT8=0 keeps the pack's graph as is.
 */
export const CPU_INT8_LEVEL = 4;

// ----------------------------------------------------------------------------------------------- protobuf, minimal
function varint(b: Buffer, pos: number): [number, number] {
  let v = 0, mul = 1, p = pos;
  for (;;) {
    if (p >= b.length) throw new Error('truncated varint');
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, p];
    mul *= 128;
    if (mul > 2 ** 63) throw new Error('varint too long');
  }
}
function encVarint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
const lenField = (num: number, payload: Buffer) => Buffer.concat([encVarint(num * 8 + 2), encVarint(payload.length), payload]);

interface Field {
  num: number;
  wire: number;
  /** the whole field as written (tag, length, payload) */
  raw: Buffer;
  /** a length-delimited field's payload */
  payload?: Buffer;
}
function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const start = pos;
    const [tag, p1] = varint(b, pos);
    const num = Math.floor(tag / 8), wire = tag % 8;
    pos = p1;
    let payload: Buffer | undefined;
    if (wire === 0) pos = varint(b, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, p2] = varint(b, pos);
      if (p2 + len > b.length) throw new Error('a field runs past the end of its message');
      payload = b.subarray(p2, p2 + len);
      pos = p2 + len;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (pos > b.length) throw new Error('truncated message');
    out.push({ num, wire, raw: b.subarray(start, pos), payload });
  }
  return out;
}
const str = (f: Field | undefined) => (f?.payload ? f.payload.toString('utf8') : '');

/** AttributeProto { name = "accuracy_level", i = level, type = INT } */
function accuracyAttribute(level: number): Buffer {
  return Buffer.concat([lenField(1, Buffer.from('accuracy_level')), encVarint(3 * 8), encVarint(level), encVarint(20 * 8), encVarint(2)]);
}

/**
 * The ModelProto `model` with `accuracy_level` = level on every MatMulNBits node of its main graph that has none (or
 * 0); everything else byte for byte. `patched` = how many nodes changed.
 */
export function withAccuracyLevel(model: Buffer, level: number): { bytes: Buffer; patched: number } {
  let patched = 0;
  const node = (f: Field): Buffer => {
    const parts = fields(f.payload!);
    const op = str(parts.find((p) => p.num === 4));
    const domain = str(parts.find((p) => p.num === 7));
    if (op !== 'MatMulNBits' || (domain !== 'com.microsoft' && domain !== '')) return f.raw;
    const attrs = parts.filter((p) => p.num === 5 && p.payload);
    const existing = attrs.find((a) => str(fields(a.payload!).find((x) => x.num === 1)) === 'accuracy_level');
    if (existing) {
      const i = fields(existing.payload!).find((x) => x.num === 3 && x.wire === 0);
      if (i && varint(i.raw, 1)[0] !== 0) return f.raw; // the pack chose a level: kept
    }
    patched++;
    const kept = parts.filter((p) => p !== existing).map((p) => p.raw);
    return lenField(1, Buffer.concat([...kept, lenField(5, accuracyAttribute(level))]));
  };
  // pieces of the output, joined once at the end: the initializers (most of an inline graph) are copied once only
  const pieces: Buffer[] = [];
  for (const f of fields(model)) {
    if (f.num !== 7 || !f.payload) {
      pieces.push(f.raw);
      continue;
    }
    const graph = fields(f.payload).map((g) => (g.num === 1 && g.payload ? node(g) : g.raw));
    pieces.push(encVarint(7 * 8 + 2), encVarint(graph.reduce((n, b) => n + b.length, 0)), ...graph);
  }
  return patched ? { bytes: Buffer.concat(pieces), patched } : { bytes: model, patched: 0 };
}

/**
 * Graphs up to protobuf's 2 GiB are rewritten in memory, inline weights included (the exporter keeps weights inline
 * below 1.8 GB: TinyLlama's int4 decoder is one 883 MB file); the rewrite holds the file and its copy at once.
 */
const MAX_GRAPH_BYTES = 2 ** 31 - 1;

/** A decoder graph for the CPU: its bytes, and the folder its external weights are read from (the pack's). */
export interface CpuGraph {
  bytes: Buffer;
  folder: string;
  patched: number;
}

/** onnxruntime's session config entry that resolves a graph-from-bytes' external data (and bounds it to that folder) */
export const EXTERNAL_FOLDER_KEY = 'session.model_external_initializers_file_folder_path';

/**
 * `decoderFile` with int8 compute for the CPU (above), in memory: onnxruntime creates the session from these bytes
 * and reads the external weights from the pack's own folder (EXTERNAL_FOLDER_KEY), so nothing is copied or written.
 * null when there is nothing to change (no MatMulNBits, levels already set), the graph is over 2 GiB, or
 * VANTAGE_CPU_INT8=0.
 */
export function cpuInt8Decoder(decoderFile: string, env: NodeJS.ProcessEnv = process.env): CpuGraph | null {
  if (env.VANTAGE_CPU_INT8 === '0') return null;
  if (statSync(decoderFile).size > MAX_GRAPH_BYTES) return null;
  const { bytes, patched } = withAccuracyLevel(readFileSync(decoderFile), CPU_INT8_LEVEL); // the original is garbage now
  return patched ? { bytes, folder: path.dirname(path.resolve(decoderFile)), patched } : null;
}

/** a stock-binding CPU session for `graph` (a file, or a CpuGraph in memory with its weights' folder) */
export function createCpuSession(graph: string | CpuGraph, opts: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof graph === 'string'
    ? ort.InferenceSession.create(graph, opts)
    : ort.InferenceSession.create(graph.bytes, { ...opts, extra: { ...(opts.extra ?? {}), [EXTERNAL_FOLDER_KEY]: graph.folder } });
}
