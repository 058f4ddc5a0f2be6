import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPackDir } from './testPackFixtures.js';
import { onnxExternalLocations } from './onnxExternalData.js';
import { field, graph, model, tensor } from './onnxTestProto.js';

let dir: string;
beforeAll(() => void (dir = mkdtempSync(path.join(tmpdir(), 'vantage-onnx-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Buffer) => {
  const f = path.join(dir, name);
  writeFileSync(f, bytes);
  return f;
};

describe('onnxExternalLocations', () => {
  it('finds no references in the test pack’s real graphs (weights inside), reading them without error', async () => {
    for (const st of ['vision', 'decoder', 'pixel']) expect(await onnxExternalLocations(path.join(testPackDir, `${st}.onnx`))).toEqual([]);
  });

  it('finds the location of initializers, Constant attributes and tensors inside If bodies, skipping raw weights', async () => {
    const body = graph([tensor('inner', { location: '../../inner.bin' })]);
    const g = graph([tensor('w', { raw: Buffer.alloc(300_000, 7) }), tensor('a', { location: 'weights.data' })], {
      attrTensor: tensor('c', { location: '/etc/passwd' }),
      subgraph: body,
    });
    expect(await onnxExternalLocations(write('m.onnx', model(g)))).toEqual(['weights.data', '/etc/passwd', '../../inner.bin']);
  });

  it('refuses bytes that are not protobuf, cut-off fields and absurd nesting', async () => {
    await expect(onnxExternalLocations(write('text.onnx', Buffer.from('grounding graph bytes')))).rejects.toThrow(/wire type 7/);
    const whole = model(graph([tensor('a', { location: 'x.data' })]));
    await expect(onnxExternalLocations(write('cut.onnx', whole.subarray(0, whole.length - 5)))).rejects.toThrow(/past the end|cut off/);
    let g = graph([]);
    for (let i = 0; i < 70; i++) g = graph([], { subgraph: g });
    await expect(onnxExternalLocations(write('deep.onnx', model(g)))).rejects.toThrow(/nested more than 64 deep/);
    // a string field that claims more bytes than the file has
    const liar = Buffer.concat([field(2, 'x'), Buffer.from([0x3a, 0xff, 0xff, 0x03])]);
    await expect(onnxExternalLocations(write('liar.onnx', liar))).rejects.toThrow(/past the end/);
    expect(readFileSync(path.join(dir, 'liar.onnx')).length).toBe(7);
  });
});
