/**
 * Hand-written ONNX protobuf for tests (field numbers from onnx.proto): enough to place external-data references
 * where real graphs hold them (initializers, Constant attributes, If/Loop bodies, sparse tensors) without onnx.
 */
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** a length-delimited field (wire type 2) */
export function field(num: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint(num * 8 + 2), varint(body.byteLength), body]);
}

/** a varint field (wire type 0) */
export function intField(num: number, value: number): Buffer {
  return Buffer.concat([varint(num * 8), varint(value)]);
}

/** TensorProto with raw weights, or with data_location EXTERNAL at `location` */
export function tensor(name: string, opts: { location?: string; raw?: Buffer } = {}): Buffer {
  const parts = [intField(1, 4), intField(2, 1), field(8, name)];
  if (opts.raw) parts.push(field(9, opts.raw));
  if (opts.location !== undefined) {
    parts.push(field(13, Buffer.concat([field(1, 'location'), field(2, opts.location)])));
    parts.push(field(13, Buffer.concat([field(1, 'length'), field(2, '16')])));
    parts.push(intField(14, 1));
  }
  return Buffer.concat(parts);
}

/** GraphProto: initializers, plus one node whose attribute holds `attrTensor` and/or a subgraph */
export function graph(initializers: Buffer[], node?: { attrTensor?: Buffer; subgraph?: Buffer }): Buffer {
  const parts = initializers.map((t) => field(5, t));
  if (node) {
    const attr = [field(1, 'value')];
    if (node.attrTensor) attr.push(field(5, node.attrTensor));
    if (node.subgraph) attr.push(field(6, node.subgraph));
    parts.push(field(1, Buffer.concat([field(4, node.subgraph ? 'If' : 'Constant'), field(5, Buffer.concat(attr))])));
  }
  parts.push(field(2, 'g'));
  return Buffer.concat(parts);
}

/** ModelProto around a graph */
export function model(g: Buffer, producer = 'vantage-tests'): Buffer {
  return Buffer.concat([intField(1, 8), field(2, producer), field(7, g)]);
}
