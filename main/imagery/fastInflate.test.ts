import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { blockKernel, type BlockLayout } from './blockKernel.js';
import { deflateAddonFile, loadDeflateAddon, withLibdeflate } from './fastInflate.js';
import { lzwDecode } from './safeLzw.js';

// the addon is built by `npm run build` (main/build/buildDeflate.mjs), which CI runs before the tests
const addon = loadDeflateAddon();
const skip = !addon && process.env.CI !== 'true';
if (skip) console.warn(`fastInflate tests skipped: no libdeflate addon (${deflateAddonFile() ?? 'dist/native/vantage_deflate.node not built'}; run node main/build/buildDeflate.mjs)`);

/** compressible but not trivial bytes */
function bytes(n: number, seed = 1): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = ((i * 7) ^ ((i * seed * 2654435761) >>> 28)) & 255;
  return a;
}

describe.skipIf(skip)('libdeflate addon', () => {
  const fast = withLibdeflate(zlib, addon);

  it('inflates exactly what node:zlib inflates, including output shorter than the block', () => {
    for (const n of [1, 1000, 65536, 262144]) {
      const raw = bytes(n, n);
      const packed = zlib.deflateSync(raw, { level: 6 });
      const opts = { chunkSize: 262144, maxOutputLength: 262144 };
      expect(Buffer.from(fast.inflateSync(packed, opts)).equals(zlib.inflateSync(packed, opts))).toBe(true);
    }
  });

  it('leaves corrupt and oversized data to node:zlib, which reports it as before', () => {
    const packed = zlib.deflateSync(bytes(100000));
    const opts = { chunkSize: 16384, maxOutputLength: 100000 };
    expect(addon!.inflate(packed.subarray(0, 50), new Uint8Array(100000))).toBe(-1);
    expect(() => fast.inflateSync(packed.subarray(0, 50), opts)).toThrow(/unexpected end of file/);
    expect(addon!.inflate(packed, new Uint8Array(99999))).toBe(-1);
    expect(() => fast.inflateSync(packed, { chunkSize: 16384, maxOutputLength: 99999 })).toThrow(RangeError);
  });

  it('scatters 4 × 8-bit chunky blocks into band arrays (plain and shared) as the JS path does, clipped to the window', () => {
    const lay: BlockLayout = { compression: 1, predictor: 1, littleEndian: true, format: 1, bytesPerSample: 1, spp: 4, planar: 1, blockW: 64, blockH: 32, imageW: 150, imageH: 90, tiled: true, fill: 0 };
    const js = blockKernel(zlib, lzwDecode, null);
    const native = blockKernel(zlib, lzwDecode, addon);
    const win = { x0: 13, y0: 7, x1: 141, y1: 88, bands: [0, 1, 2, 3] };
    const pixels = (win.x1 - win.x0) * (win.y1 - win.y0);
    for (const shared of [false, true]) {
      const mk = () => [0, 1, 2, 3].map(() => new Uint8Array(shared ? new SharedArrayBuffer(pixels) : new ArrayBuffer(pixels)));
      const a = mk();
      const b = mk();
      for (let by = 0; by < 3; by++) {
        for (let bx = 0; bx < 3; bx++) {
          const block = { bx, by, plane: 0, offset: 0, length: 1 };
          const data = bytes(64 * 32 * 4, 1 + bx + 3 * by);
          js.scatter(lay, win, a, block, js.decodeBlock(lay, data, by));
          native.scatter(lay, win, b, block, native.decodeBlock(lay, data, by));
        }
      }
      for (let i = 0; i < 4; i++) expect(Buffer.from(b[i]!).equals(Buffer.from(a[i]!))).toBe(true);
      expect(a[2]!.some((v) => v !== 0)).toBe(true);
    }
    // out of bounds: refused, the kernel's JS path writes instead
    const o = [0, 1, 2, 3].map(() => new Uint8Array(10));
    expect(addon!.deinterleave4(new Uint8Array(40), 0, 40, 1, 11, o[0]!, o[1]!, o[2]!, o[3]!, 0, 10)).toBe(-1);
    expect(addon!.deinterleave4(new Uint8Array(40), 4, 40, 1, 10, o[0]!, o[1]!, o[2]!, o[3]!, 0, 10)).toBe(-1);
    expect(addon!.deinterleave4(new Uint8Array(40), 0, 40, 1, 10, o[0]!, o[1]!, o[2]!, o[3]!, 0, 10)).toBe(0);
  });
});
