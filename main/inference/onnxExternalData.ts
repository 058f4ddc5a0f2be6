import { open, type FileHandle } from 'node:fs/promises';

/**
 * The `location` of every external-data reference in an ONNX file (TensorProto.external_data entries with key
 * "location"), found by walking the protobuf without reading the weights: raw_data blobs are skipped by seeking,
 * so a multi-GB graph costs a few reads. onnxruntime resolves each location relative to the graph's folder, so a
 * pack must check them before the graph is handed over (a location of ../../x would read any file).
 * Throws a plain Error (the caller names the pack and file) on anything that is not well-formed protobuf.
 */
export async function onnxExternalLocations(file: string): Promise<string[]> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const out: string[] = [];
    await walk(new Reader(fh), 'model', 0, size, 0, out);
    return out;
  } finally {
    await fh.close();
  }
}

type Msg = 'model' | 'training' | 'graph' | 'node' | 'attribute' | 'sparse' | 'function' | 'tensor' | 'entry';

/**
 * Sub-messages that can hold tensors, by field number (onnx.proto): every path from ModelProto to a TensorProto.
 * Fields not listed are skipped whatever they hold; a field repeated where protobuf would merge is walked each time.
 */
const CHILDREN: Record<Msg, Partial<Record<number, Msg>>> = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  training: { 1: 'graph', 2: 'graph' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  function: { 7: 'node', 11: 'attribute' },
  tensor: { 13: 'entry' },
  entry: {},
};
/** If/Loop/Scan bodies nest graphs; deeper than this is not a real model */
const MAX_DEPTH = 64;
const MAX_LOCATION_BYTES = 4096;

async function walk(r: Reader, msg: Msg, start: number, end: number, depth: number, out: string[]): Promise<void> {
  if (depth > MAX_DEPTH) throw new Error(`graphs nested more than ${MAX_DEPTH} deep`);
  let key: string | null = null;
  let value: string | null = null;
  let pos = start;
  while (pos < end) {
    const [tag, p1] = await r.varint(pos, end);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    pos = p1;
    if (wire === 0) pos = (await r.varint(pos, end, false))[1]; // int64 values (-1 takes 10 bytes): skipped
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, p2] = await r.varint(pos, end);
      pos = p2;
      if (pos + len > end) throw new Error('a field runs past the end of its message');
      const child = CHILDREN[msg][field];
      if (child) await walk(r, child, pos, pos + len, depth + 1, out);
      else if (msg === 'entry' && (field === 1 || field === 2)) {
        if (len > MAX_LOCATION_BYTES) throw new Error(`an external-data entry is longer than ${MAX_LOCATION_BYTES} bytes`);
        const s = (await r.bytes(pos, len)).toString('utf8');
        if (field === 1) key = s;
        else value = s;
      }
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > end) throw new Error('a field runs past the end of its message');
  }
  if (msg === 'entry' && key === 'location') out.push(value ?? '');
}

/** Positional reads through a 64 KiB window: the walk reads small headers scattered through a large file. */
class Reader {
  private readonly buf = Buffer.alloc(64 * 1024);
  private bufStart = 0;
  private bufLen = 0;

  constructor(private readonly fh: FileHandle) {}

  private async fill(pos: number): Promise<void> {
    const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, pos);
    this.bufStart = pos;
    this.bufLen = bytesRead;
  }

  /** a base-128 varint at `pos` (before `end`): [value, position after it]; `exact`: the value must fit a double */
  async varint(pos: number, end: number, exact = true): Promise<[number, number]> {
    if (pos < this.bufStart || pos + 10 > this.bufStart + this.bufLen) await this.fill(pos);
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10 && pos < end; i++) {
      const at = pos - this.bufStart;
      if (at >= this.bufLen) break;
      const b = this.buf[at]!;
      pos++;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) {
        if (exact && !Number.isSafeInteger(v)) break;
        return [v, pos];
      }
    }
    throw new Error('a varint is cut off or too long');
  }

  async bytes(pos: number, len: number): Promise<Buffer> {
    const out = Buffer.alloc(len);
    const { bytesRead } = await this.fh.read(out, 0, len, pos);
    if (bytesRead !== len) throw new Error('the file ends inside a field');
    return out;
  }
}
