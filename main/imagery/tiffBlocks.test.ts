import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GeoTiffSource } from './geotiffSource.js';
import type { NumericArray } from './rasterSource.js';
import { TestTiffDir } from './testTiff.js';
import { POOL_MIN_BLOCKS, RECYCLE_IDLE_MS, recycleBands } from './tiffBlocks.js';

// the full-image reads below take the decode pool even where the machine reports one CPU
process.env.VANTAGE_DECODE_THREADS = '2';

const tmp = new TestTiffDir();
afterAll(() => tmp.remove());

/** 300×200 in 64² tiles: partial tiles at the right and bottom edges; 5×4 = 20 blocks per band */
const W = 300;
const H = 200;
const BANDS = 3;

type Dtype = 'Byte' | 'UInt16' | 'Int16' | 'Float32';
const ENVI_TYPE: Record<Dtype, number> = { Byte: 1, Int16: 2, UInt16: 12, Float32: 4 };
const ARRAY: Record<Dtype, new (n: number) => NumericArray> = { Byte: Uint8Array, Int16: Int16Array, UInt16: Uint16Array, Float32: Float32Array };

/** known band values: smooth with some noise, so predictors and compressors have work */
function bandValues(dtype: Dtype, band: number, bands = BANDS, fill?: (x: number, y: number) => boolean, fillValue = 0): NumericArray {
  void bands;
  const a = new ARRAY[dtype](W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const noise = (x * y * 2654435761) >>> 27;
      let v: number;
      if (dtype === 'Byte') v = (x * 3 + y * 5 + band * 50 + noise) & 255;
      else if (dtype === 'UInt16') v = (x * 131 + y * 977 + band * 10007 + noise) % 65536;
      else if (dtype === 'Int16') v = ((x * 131 - y * 977 + band * 10007 + noise) % 65536 + 65536) % 65536 - 32768;
      else v = Math.sin(x * 0.05 + band) * 1000 + y * 0.25 - 300.125 + noise / 7;
      a[y * W + x] = fill?.(x, y) ? fillValue : v;
    }
  }
  return a;
}

/** raw band-sequential ENVI file of known values → GeoTIFF through gdal_translate with the given creation options */
function makeTiff(name: string, dtype: Dtype, bands: NumericArray[], co: string[], extra: string[] = []): string {
  const raw = path.join(tmp.dir, `${name}.bin`);
  writeFileSync(raw, Buffer.concat(bands.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))));
  writeFileSync(
    path.join(tmp.dir, `${name}.hdr`),
    `ENVI\nsamples = ${W}\nlines = ${H}\nbands = ${bands.length}\nheader offset = 0\nfile type = ENVI Standard\ndata type = ${ENVI_TYPE[dtype]}\ninterleave = bsq\nbyte order = 0\n`,
  );
  const out = path.join(tmp.dir, `${name}.tif`);
  execFileSync('gdal_translate', ['-q', '-of', 'GTiff', ...extra, ...co.flatMap((c) => ['-co', c]), raw, out]);
  return out;
}

/** the first difference (index, values) or null: cheap to report where a 60,000-element diff is not */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `element ${i}: ${actual[i]}, expected ${expected[i]}`;
  }
  return null;
}

function windowOf(a: NumericArray, [x0, y0, x1, y1]: number[]): number[] {
  const out: number[] = [];
  for (let y = y0!; y < y1!; y++) for (let x = x0!; x < x1!; x++) out.push(a[y * W + x]!);
  return out;
}

const WINDOWS: [number, number, number, number][] = [
  [0, 0, W, H], // every block: the decode pool
  [37, 21, 150, 90], // unaligned, a few blocks: decoded in this thread
  [250, 150, W, H], // partial edge tiles only
];

/** reads each window with both decoders; both must equal the known values exactly, with the same array types */
async function expectSameAsKnown(file: string, known: NumericArray[], bandSets: number[][]): Promise<void> {
  const fast = await GeoTiffSource.open(file, { reader: 'blocks' });
  const ref = await GeoTiffSource.open(file, { reader: 'geotiff' });
  try {
    for (const win of WINDOWS) {
      for (const bands of bandSets) {
        const a = await fast.readWindow(0, win, bands);
        const b = await ref.readWindow(0, win, bands);
        for (let i = 0; i < bands.length; i++) {
          const expected = windowOf(known[bands[i]!]!, win);
          expect(a.bands[i]!.constructor.name).toBe(b.bands[i]!.constructor.name);
          expect(firstDifference(a.bands[i]!, expected), `${path.basename(file)} ${win} band ${bands[i]}`).toBeNull();
          expect(firstDifference(b.bands[i]!, expected), `geotiff.js: ${path.basename(file)} ${win} band ${bands[i]}`).toBeNull();
        }
      }
    }
    // all of it went through the block decoder, none fell back to geotiff.js
    expect(fast.reads).toEqual({ blocks: WINDOWS.length * bandSets.length, geotiff: 0 });
  } finally {
    await fast.close();
    await ref.close();
  }
}

const CASES: { dtype: Dtype; predictor: number }[] = [
  { dtype: 'Byte', predictor: 1 },
  { dtype: 'UInt16', predictor: 1 },
  { dtype: 'Int16', predictor: 1 },
  { dtype: 'Float32', predictor: 1 },
  { dtype: 'Byte', predictor: 2 },
  { dtype: 'UInt16', predictor: 2 },
  { dtype: 'Int16', predictor: 2 },
  { dtype: 'Float32', predictor: 3 },
];

describe('the block decoder reads exactly what geotiff.js and the file hold', () => {
  for (const compress of ['DEFLATE', 'LZW', 'NONE']) {
    for (const interleave of ['PIXEL', 'BAND']) {
      it(`${compress}, ${interleave} interleaved: uint8/uint16/int16/float32 × predictor 1/2/3, tiled and striped`, async () => {
        for (const { dtype, predictor } of CASES) {
          if (compress === 'NONE' && predictor !== 1) continue; // GDAL writes predictors only with compression
          const known = Array.from({ length: BANDS }, (_, b) => bandValues(dtype, b));
          const co = [`COMPRESS=${compress}`, `PREDICTOR=${predictor}`, `INTERLEAVE=${interleave}`];
          const name = `${compress}_${interleave}_${dtype}_p${predictor}`;
          const tiled = makeTiff(`${name}_t`, dtype, known, [...co, 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64']);
          await expectSameAsKnown(tiled, known, [[0, 1, 2], [2], [2, 0]]);
          // 16-row strips: 13 strips per band, the last one 8 rows
          const striped = makeTiff(`${name}_s`, dtype, known, [...co, 'TILED=NO', 'BLOCKYSIZE=16']);
          await expectSameAsKnown(striped, known, [[0, 1, 2]]);
        }
      });
    }
  }

  it('4-band 8-bit pixel-interleaved (the word-wise path), any band order', async () => {
    const known = Array.from({ length: 4 }, (_, b) => bandValues('Byte', b, 4));
    const f = makeTiff('rgba', 'Byte', known, ['COMPRESS=DEFLATE', 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64']);
    await expectSameAsKnown(f, known, [[0, 1, 2, 3], [3, 2, 1, 0], [1]]);
  });

  it('big-endian files, horizontal predictor included (geotiff.js misreads these; the block decoder swaps as libtiff does)', async () => {
    // not predictor 3: GDAL 3.6 writes big-endian floating-point-predicted files it reads back byte-reversed itself
    for (const { dtype, predictor } of CASES.filter((c) => c.dtype !== 'Byte' && c.predictor !== 3)) {
      const known = Array.from({ length: BANDS }, (_, b) => bandValues(dtype, b));
      const f = makeTiff(`be_${dtype}_${predictor}`, dtype, known, ['ENDIANNESS=BIG', 'COMPRESS=DEFLATE', `PREDICTOR=${predictor}`, 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64']);
      const s = await GeoTiffSource.open(f, { reader: 'blocks' });
      try {
        for (const win of WINDOWS) {
          const r = await s.readWindow(0, win, [0, 1, 2]);
          for (let b = 0; b < BANDS; b++) expect(firstDifference(r.bands[b]!, windowOf(known[b]!, win)), `${dtype} predictor ${predictor}`).toBeNull();
        }
        expect(s.reads.geotiff, `${dtype} predictor ${predictor}`).toBe(0);
      } finally {
        await s.close();
      }
    }
  });

  it('sparse (absent) tiles read as the nodata value, like GDAL and geotiff.js', async () => {
    // tile (1, 1) entirely nodata: with SPARSE_OK GDAL does not write it
    const inTile = (x: number, y: number) => x >= 64 && x < 128 && y >= 64 && y < 128;
    const known = Array.from({ length: BANDS }, (_, b) => bandValues('UInt16', b, BANDS, inTile, 7));
    for (const interleave of ['PIXEL', 'BAND']) {
      const f = makeTiff(`sparse_${interleave}`, 'UInt16', known, ['SPARSE_OK=TRUE', 'COMPRESS=DEFLATE', `INTERLEAVE=${interleave}`, 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64'], ['-a_nodata', '7']);
      const { fromFile } = await import('geotiff');
      const t = await fromFile(f);
      const counts = Array.from((await (await t.getImage(0)).fileDirectory.loadValue('TileByteCounts')) as ArrayLike<number>, Number);
      await t.close();
      expect(counts.filter((c) => c === 0).length).toBe(interleave === 'PIXEL' ? 1 : BANDS);
      await expectSameAsKnown(f, known, [[0, 1, 2], [1]]);
    }
  });

  it(`a window of at least ${POOL_MIN_BLOCKS} blocks comes back in shared memory from the decode pool`, async () => {
    const known = Array.from({ length: BANDS }, (_, b) => bandValues('UInt16', b));
    const f = makeTiff('pool', 'UInt16', known, ['COMPRESS=DEFLATE', 'PREDICTOR=2', 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64']);
    const s = await GeoTiffSource.open(f, { reader: 'blocks' });
    try {
      const full = await s.readWindow(0, [0, 0, W, H], [0, 1, 2]);
      expect(full.bands[0]!.buffer).toBeInstanceOf(SharedArrayBuffer);
      const small = await s.readWindow(0, [0, 0, 64, 64], [0]);
      expect(small.bands[0]!.buffer).toBeInstanceOf(ArrayBuffer);
    } finally {
      await s.close();
    }
  });

  it('buffers given back are reused by the next read of the same size, and hold only its pixels (sparse 0-valued tiles included)', async () => {
    const known = Array.from({ length: BANDS }, (_, b) => bandValues('UInt16', b));
    const full = makeTiff('recycle_full', 'UInt16', known, ['COMPRESS=DEFLATE', 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64']);
    // tile (1, 1) absent and nodata 0: the decoder writes nothing there, so a reused buffer must be cleared first
    const inTile = (x: number, y: number) => x >= 64 && x < 128 && y >= 64 && y < 128;
    const holed = Array.from({ length: BANDS }, (_, b) => bandValues('UInt16', b, BANDS, inTile, 0));
    const sparse = makeTiff('recycle_sparse', 'UInt16', holed, ['SPARSE_OK=TRUE', 'COMPRESS=DEFLATE', 'TILED=YES', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64'], ['-a_nodata', '0']);
    const a = await GeoTiffSource.open(full, { reader: 'blocks' });
    const b = await GeoTiffSource.open(sparse, { reader: 'blocks' });
    try {
      const first = await a.readWindow(0, [0, 0, W, H], [0, 1, 2]);
      const buffers = new Set(first.bands.map((x) => x.buffer));
      recycleBands(first.bands);
      recycleBands(first.bands); // given back twice: still lent out once only
      const second = await b.readWindow(0, [0, 0, W, H], [0, 1, 2]);
      expect(second.bands.every((x) => buffers.has(x.buffer))).toBe(true);
      second.bands.forEach((x, i) => expect(firstDifference(x, holed[i]!), `band ${i}`).toBeNull());
      const third = await a.readWindow(0, [0, 0, W, H], [0, 1, 2]);
      expect(third.bands.some((x) => buffers.has(x.buffer))).toBe(false);
      third.bands.forEach((x, i) => expect(firstDifference(x, known[i]!), `band ${i}`).toBeNull());
      second.bands.forEach((x, i) => expect(firstDifference(x, holed[i]!), `band ${i} after another read`).toBeNull());
      // arrays the pool did not hand out are left alone
      const small = await a.readWindow(0, [0, 0, 64, 64], [0]);
      const stranger = new Uint16Array(new SharedArrayBuffer(W * H * 2));
      recycleBands([...small.bands, stranger]);
      const fourth = await a.readWindow(0, [0, 0, W, H], [0]);
      expect(fourth.bands[0]!.buffer).not.toBe(stranger.buffer);
      // kept buffers are let go once reads pause (RECYCLE_IDLE_MS): idle memory is not held
      const fifth = await a.readWindow(0, [0, 0, W, H], [0, 1, 2]);
      const kept = new Set(fifth.bands.map((x) => x.buffer));
      recycleBands(fifth.bands);
      await new Promise((r) => setTimeout(r, RECYCLE_IDLE_MS + 200));
      const sixth = await a.readWindow(0, [0, 0, W, H], [0, 1, 2]);
      expect(sixth.bands.some((x) => kept.has(x.buffer))).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
