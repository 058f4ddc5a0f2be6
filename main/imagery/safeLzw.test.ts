import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GeoTiffSource } from './geotiffSource.js';
import { lzwDecode } from './safeLzw.js';
import { TestTiffDir } from './testTiff.js';

const tmp = new TestTiffDir();
afterAll(() => tmp.remove());

describe('bounded LZW decoder', () => {
  it('decodes what GDAL writes (with predictor, multi-strip, table resets) exactly like the uncompressed copy', async () => {
    // 300×200 noisy grid: long enough for the code width to reach 12 bits and the table to be cleared
    const rows = Array.from({ length: 200 }, (_, y) => Array.from({ length: 300 }, (_, x) => (x * 7 + y * 13 + ((x * y) % 17)) % 251));
    const plain = tmp.grid('plain', rows, ['-ot', 'UInt16']);
    const lzw = path.join(tmp.dir, 'lzw.tif');
    execFileSync('gdal_translate', ['-q', '-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2', '-co', 'BLOCKYSIZE=37', plain, lzw]);
    const a = await GeoTiffSource.open(plain);
    const b = await GeoTiffSource.open(lzw);
    const wa = await a.readWindow(0, [0, 0, 300, 200], [0]);
    const wb = await b.readWindow(0, [0, 0, 300, 200], [0]);
    expect(Array.from(wb.bands[0]!)).toEqual(Array.from(wa.bands[0]!));
    await a.close();
    await b.close();
  });

  it('refuses corrupt input instead of looping or growing without end', () => {
    // 9-bit codes: 65 'A', then 300 (far beyond the table, which holds 258 entries)
    const bits = '001000001' + '100101100';
    const bytes = new Uint8Array(Math.ceil(bits.length / 8));
    for (let i = 0; i < bits.length; i++) if (bits[i] === '1') bytes[i >> 3]! |= 0x80 >> (i & 7);
    expect(() => lzwDecode(bytes, 1000)).toThrow(/beyond the table/);
    // a valid stream that decodes to more than the block holds
    const many = new Uint8Array(64).fill(0);
    expect(() => lzwDecode(many, 4)).toThrow(/more than the block/);
  });
});
