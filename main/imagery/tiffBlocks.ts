import type { FileHandle } from 'node:fs/promises';
import type { GeoTIFFImage } from 'geotiff';
import type { BandArray, BlockLayout, BlockRef, WindowSpec } from './blockKernel.js';
import { decodePool, localKernel, type ReadUnit } from './decodePool.js';

/** windows needing at least this many blocks are decoded by the pool (tile-sized reads stay in this thread) */
export const POOL_MIN_BLOCKS = 16;
/** coalescing: blocks at most this far apart are read together, up to these limits per read */
const MAX_GAP = 16 * 1024;
const MAX_UNIT_BYTES = 4 * 1024 * 1024;
const MAX_UNIT_BLOCKS = 4;
/** a block larger than this (decoded) is left to geotiff.js: a corrupt tile size must not allocate gigabytes */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

const COMPRESSIONS = new Set([1, 5, 8, 32946]);

function numbers(v: unknown): number[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'bigint') return [Number(v)];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>, Number);
  return null;
}

/** GDAL fills absent blocks with the nodata value ("nan" included), else 0 */
function fillOf(raw: unknown): number {
  if (typeof raw !== 'string') return 0;
  const t = raw.replace(/\0/g, '').trim().toLowerCase();
  if (t === 'nan') return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : 0;
}

/**
 * The common case of a tiled (or striped) level — none/LZW/DEFLATE, predictor 1/2/3, 8/16/32-bit integers or
 * 32/64-bit floats, equal for all samples — as a BlockLayout; null for anything else (geotiff.js reads those).
 */
export async function blockLayoutOf(im: GeoTIFFImage): Promise<BlockLayout | null> {
  const fd = im.fileDirectory;
  const compression = Number(fd.getValue('Compression') ?? 1);
  if (!COMPRESSIONS.has(compression)) return null;
  const predictor = fd.hasTag('Predictor') ? Number(numbers(await fd.loadValue('Predictor'))?.[0] ?? 1) : 1;
  const bits = numbers(await fd.loadValue('BitsPerSample')) ?? [1];
  const formats = fd.hasTag('SampleFormat') ? (numbers(await fd.loadValue('SampleFormat')) ?? [1]) : [1];
  const b = bits[0]!;
  const format = formats[0]!;
  if (!bits.every((x) => x === b) || !formats.every((x) => x === format)) return null;
  const okBits = format === 3 ? b === 32 || b === 64 : (format === 1 || format === 2) && (b === 8 || b === 16 || b === 32);
  if (!okBits) return null;
  if (!(predictor === 1 || (predictor === 2 && format !== 3) || (predictor === 3 && format === 3))) return null;
  const spp = im.getSamplesPerPixel();
  const planar = im.planarConfiguration === 2 ? 2 : 1;
  const blockW = im.getTileWidth();
  const blockH = im.getTileHeight();
  if (!(blockW > 0 && blockH > 0) || blockW * blockH * (b / 8) * (planar === 2 ? 1 : spp) > MAX_BLOCK_BYTES) return null;
  return {
    compression,
    predictor,
    littleEndian: im.littleEndian,
    format,
    bytesPerSample: b / 8,
    spp,
    planar,
    blockW,
    blockH,
    imageW: im.getWidth(),
    imageH: im.getHeight(),
    tiled: im.isTiled,
    fill: fillOf(fd.hasTag('GDAL_NODATA') ? fd.getValue('GDAL_NODATA') : null),
  };
}

/** Groups the non-sparse blocks into reads: ascending offsets, near neighbours together. */
export function readUnits(blocks: BlockRef[]): ReadUnit[] {
  const sorted = blocks.filter((b) => b.length > 0).sort((a, b) => a.offset - b.offset);
  const units: ReadUnit[] = [];
  let cur: ReadUnit | null = null;
  for (const b of sorted) {
    const end = cur ? cur.offset + cur.length : 0;
    if (
      cur &&
      b.offset >= end &&
      b.offset - end <= MAX_GAP &&
      b.offset + b.length - cur.offset <= MAX_UNIT_BYTES &&
      cur.blocks.length < MAX_UNIT_BLOCKS
    ) {
      cur.length = b.offset + b.length - cur.offset;
      cur.blocks.push(b);
    } else {
      cur = { offset: b.offset, length: b.length, blocks: [b] };
      units.push(cur);
    }
  }
  return units;
}

/**
 * Band buffers of pool reads that their caller has finished with (`recycleBands`), kept for the next read of the same
 * size: fresh memory costs a page fault per 4 KiB on first write (≈ 9 ms per 16 MiB on the dev VM, as much as
 * decoding it), memory used before does not — what malloc's reuse gives GDAL's callers when numpy frees an array.
 */
const RECYCLE_MAX_BYTES = 128 * 2 ** 20;
/** kept buffers are dropped this long after the last give-back: reuse serves bursts of reads, not idle memory */
export const RECYCLE_IDLE_MS = 2000;
const recycled = new Map<number, SharedArrayBuffer[]>();
let recycledBytes = 0;
let idleTimer: ReturnType<typeof setTimeout> | null = null;
/** buffers handed out and not given back: only these are taken back, each once */
const lent = new WeakSet<SharedArrayBuffer>();

function takeBuffer(bytes: number): { buf: SharedArrayBuffer; reused: boolean } {
  const list = recycled.get(bytes);
  const hit = list?.pop();
  if (hit) recycledBytes -= bytes;
  const buf = hit ?? new SharedArrayBuffer(bytes);
  lent.add(buf);
  return { buf, reused: !!hit };
}

/**
 * Gives a window's band arrays back once the caller no longer reads them (they may be overwritten by a later read).
 * Arrays that were not handed out by a pool read, or were given back already, are left alone.
 */
export function recycleBands(bands: ArrayLike<number>[]): void {
  for (const b of bands) {
    const buf = (b as { buffer?: unknown }).buffer;
    if (!(buf instanceof SharedArrayBuffer) || !lent.has(buf)) continue;
    lent.delete(buf);
    if (recycledBytes + buf.byteLength > RECYCLE_MAX_BYTES) continue;
    const list = recycled.get(buf.byteLength) ?? [];
    list.push(buf);
    recycled.set(buf.byteLength, list);
    recycledBytes += buf.byteLength;
  }
  if (recycledBytes === 0) return;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    recycled.clear();
    recycledBytes = 0;
    idleTimer = null;
  }, RECYCLE_IDLE_MS);
  idleTimer.unref?.();
}

/** One level's blocks: which ones a window needs, read and decoded here or in the decode pool. */
export class LevelBlocks {
  private tables: Promise<{ offsets: Float64Array; counts: Float64Array }> | null = null;

  constructor(
    readonly lay: BlockLayout,
    private readonly im: GeoTIFFImage,
    private readonly fileSize: number,
  ) {}

  private loadTables(): Promise<{ offsets: Float64Array; counts: Float64Array }> {
    this.tables ??= (async () => {
      const fd = this.im.fileDirectory;
      const tiled = fd.hasTag('TileOffsets');
      const offsets = Float64Array.from(numbers(await fd.loadValue(tiled ? 'TileOffsets' : 'StripOffsets')) ?? []);
      const counts = Float64Array.from(numbers(await fd.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts')) ?? []);
      return { offsets, counts };
    })();
    return this.tables;
  }

  async blocks(win: WindowSpec): Promise<BlockRef[]> {
    const { lay } = this;
    const { offsets, counts } = await this.loadTables();
    const across = Math.ceil(lay.imageW / lay.blockW);
    const down = Math.ceil(lay.imageH / lay.blockH);
    const planes = lay.planar === 2 ? [...new Set(win.bands)] : [0];
    const out: BlockRef[] = [];
    for (const plane of planes) {
      for (let by = Math.floor(win.y0 / lay.blockH); by < Math.min(down, Math.ceil(win.y1 / lay.blockH)); by++) {
        for (let bx = Math.floor(win.x0 / lay.blockW); bx < Math.min(across, Math.ceil(win.x1 / lay.blockW)); bx++) {
          const i = plane * across * down + by * across + bx;
          const offset = offsets[i];
          const length = counts[i];
          if (offset === undefined || length === undefined) throw new Error(`block ${i} is missing from the block table`);
          if (offset + length > this.fileSize) throw new Error(`block ${i} lies beyond the end of the file`);
          out.push({ bx, by, plane, offset, length });
        }
      }
    }
    return out;
  }

  /** Decodes the window: band arrays on SharedArrayBuffers when the pool did the work. */
  async read(file: string, fh: () => Promise<FileHandle>, win: WindowSpec, allowPool = true): Promise<BandArray[]> {
    const { lay } = this;
    const blocks = await this.blocks(win);
    const pixels = (win.x1 - win.x0) * (win.y1 - win.y0);
    const bytes = pixels * lay.bytesPerSample;
    const units = readUnits(blocks);
    const sparse = blocks.filter((b) => b.length === 0);
    const pool = allowPool && blocks.length >= POOL_MIN_BLOCKS ? decodePool() : null;
    let outs: BandArray[];
    if (pool) {
      const taken = win.bands.map(() => takeBuffer(bytes));
      const buffers = taken.map((t) => t.buf);
      outs = buffers.map((b) => localKernel.bandArray(lay, b, pixels));
      // a reused buffer holds an earlier window: clear it where no block will write (sparse blocks, past the image)
      const covered = win.x1 <= lay.imageW && win.y1 <= lay.imageH && sparse.length === 0;
      taken.forEach((t, i) => t.reused && !covered && outs[i]!.fill(0));
      await pool.run({ file, lay, win, units, outs: buffers, pixels });
    } else {
      outs = win.bands.map(() => localKernel.bandArray(lay, new ArrayBuffer(bytes), pixels));
      const handle = await fh();
      await Promise.all(
        units.map(async (u) => {
          const buf = Buffer.allocUnsafeSlow(u.length);
          const { bytesRead } = await handle.read(buf, 0, u.length, u.offset);
          if (bytesRead < u.length) throw new Error(`the file ends before byte ${u.offset + u.length}`);
          for (const b of u.blocks) {
            const rel = b.offset - u.offset;
            localKernel.scatter(lay, win, outs, b, localKernel.decodeBlock(lay, buf.subarray(rel, rel + b.length), b.by));
          }
        }),
      );
    }
    for (const b of sparse) localKernel.scatter(lay, win, outs, b, null);
    return outs;
  }
}
