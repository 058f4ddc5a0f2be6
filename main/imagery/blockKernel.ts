/**
 * Decoding of TIFF blocks (tiles or strips) straight into per-band window arrays: native zlib for DEFLATE, the
 * bounded LZW of safeLzw.ts, no compression; horizontal (2) and floating-point (3) predictors; either byte order;
 * chunky or planar samples of 8/16/32(/64 float) bits.
 *
 * `blockKernel` is self-contained on purpose (it uses nothing from module scope, only its arguments): the decode
 * workers of decodePool.ts run its source text, so the same code decodes in this thread and in the pool.
 */

/** The layout of one image level, as plain data (it is posted to the decode workers). */
export interface BlockLayout {
  /** TIFF Compression: 1 none, 5 LZW, 8/32946 DEFLATE */
  compression: number;
  /** TIFF Predictor: 1 none, 2 horizontal, 3 floating point */
  predictor: number;
  littleEndian: boolean;
  /** TIFF SampleFormat: 1 unsigned, 2 signed, 3 float */
  format: number;
  bytesPerSample: number;
  spp: number;
  /** 1 chunky (pixel interleaved), 2 planar (one block per band) */
  planar: number;
  blockW: number;
  blockH: number;
  imageW: number;
  imageH: number;
  /** strips: the last one holds only the image's remaining rows */
  tiled: boolean;
  /** value of a sparse (absent) block: the GDAL_NODATA value, else 0 */
  fill: number;
}

/** One block to decode: its column/row in the block grid and, for planar files, the band (sample) it holds. */
export interface BlockRef {
  bx: number;
  by: number;
  plane: number;
  /** where its bytes lie in the file; length 0 = sparse */
  offset: number;
  length: number;
}

export interface WindowSpec {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  bands: number[];
}

export type BandArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface Kernel {
  /** the typed array type of a band of this layout */
  bandArray(lay: BlockLayout, buffer: ArrayBufferLike, length: number): BandArray;
  /** decompressed, predictor undone, in little-endian order; its length may be less than a full block; valid until the next decodeBlock (it may be a reused buffer) */
  decodeBlock(lay: BlockLayout, data: Uint8Array, blockRow: number): Uint8Array;
  /** copies the part of a decoded block inside the window into the band arrays (null data = sparse block) */
  scatter(lay: BlockLayout, win: WindowSpec, outs: BandArray[], block: BlockRef, data: Uint8Array | null): void;
}

export type Zlib = { inflateSync(buf: Uint8Array, opts: { chunkSize: number; maxOutputLength: number }): Uint8Array };
type Lzw = (input: Uint8Array, maxOut: number) => Uint8Array;

/** native helpers (fastInflate.ts's addon); null: the JS paths */
export interface NativeScatter {
  /** `rows` rows of `n` 4 × 8-bit pixels from src at byte s (rows srcStride apart) into 4 bands at o (rows outStride apart); 0, or -1 when refused */
  deinterleave4(src: Uint8Array, s: number, srcStride: number, rows: number, n: number, o0: Uint8Array, o1: Uint8Array, o2: Uint8Array, o3: Uint8Array, o: number, outStride: number): number;
}

export function blockKernel(zlib: Zlib, lzwDecode: Lzw, native: NativeScatter | null = null): Kernel {
  const ctorOf = (lay: BlockLayout) => {
    const b = lay.bytesPerSample;
    if (lay.format === 3) return b === 8 ? Float64Array : Float32Array;
    if (lay.format === 2) return b === 1 ? Int8Array : b === 2 ? Int16Array : Int32Array;
    return b === 1 ? Uint8Array : b === 2 ? Uint16Array : Uint32Array;
  };

  function bandArray(lay: BlockLayout, buffer: ArrayBufferLike, length: number): BandArray {
    return new (ctorOf(lay))(buffer as ArrayBuffer, 0, length);
  }

  /** bytes of one row of a block, and the rows it holds */
  function geometry(lay: BlockLayout, blockRow: number): { rowBytes: number; rows: number } {
    const rowBytes = lay.blockW * lay.bytesPerSample * (lay.planar === 2 ? 1 : lay.spp);
    const rows = lay.tiled ? lay.blockH : Math.max(0, Math.min(lay.blockH, lay.imageH - blockRow * lay.blockH));
    return { rowBytes, rows };
  }

  function swapBytes(d: Uint8Array, size: number): void {
    const n = d.length - (d.length % size);
    if (size === 2) {
      for (let i = 0; i < n; i += 2) {
        const t = d[i]!;
        d[i] = d[i + 1]!;
        d[i + 1] = t;
      }
    } else {
      for (let i = 0; i < n; i += size) {
        for (let a = i, b = i + size - 1; a < b; a++, b--) {
          const t = d[a]!;
          d[a] = d[b]!;
          d[b] = t;
        }
      }
    }
  }

  /** predictor 2: each sample is the difference to the same sample of the previous pixel */
  function horizontal(lay: BlockLayout, d: Uint8Array, rowBytes: number, rows: number): void {
    const stride = lay.planar === 2 ? 1 : lay.spp;
    const size = lay.bytesPerSample;
    const v = size === 1 ? d : size === 2 ? new Uint16Array(d.buffer, d.byteOffset, d.length >> 1) : new Uint32Array(d.buffer, d.byteOffset, d.length >> 2);
    const perRow = rowBytes / size;
    for (let r = 0; r < rows; r++) {
      const end = (r + 1) * perRow;
      for (let i = r * perRow + stride; i < end; i++) v[i] = v[i]! + v[i - stride]!;
    }
  }

  /** predictor 3: bytes differenced across the row, stored as planes of most- to least-significant bytes */
  function floatingPoint(lay: BlockLayout, d: Uint8Array, rowBytes: number, rows: number): void {
    const stride = lay.planar === 2 ? 1 : lay.spp;
    const size = lay.bytesPerSample;
    const wc = rowBytes / size;
    const tmp = new Uint8Array(rowBytes);
    for (let r = 0; r < rows; r++) {
      const base = r * rowBytes;
      for (let i = base + stride; i < base + rowBytes; i++) d[i] = (d[i]! + d[i - stride]!) & 255;
      tmp.set(d.subarray(base, base + rowBytes));
      for (let b = 0; b < size; b++) {
        const plane = (size - b - 1) * wc; // little-endian result: byte b of each value comes from plane size-1-b
        for (let k = 0, o = base + b; k < wc; k++, o += size) d[o] = tmp[plane + k]!;
      }
    }
  }

  function decodeBlock(lay: BlockLayout, data: Uint8Array, blockRow: number): Uint8Array {
    const { rowBytes, rows } = geometry(lay, blockRow);
    const full = rowBytes * lay.blockH;
    let d: Uint8Array;
    if (lay.compression === 8 || lay.compression === 32946) {
      d = zlib.inflateSync(data, { chunkSize: Math.max(16384, full), maxOutputLength: Math.max(full, 1) });
    } else if (lay.compression === 5) {
      d = lzwDecode(data, full);
    } else {
      d = data;
    }
    const needsWork = lay.predictor !== 1 || (!lay.littleEndian && lay.bytesPerSample > 1);
    // typed views need aligned data; in-place work must not touch the caller's bytes (blocks may share them)
    if ((needsWork && d === data) || d.byteOffset % 8 !== 0) d = d.slice();
    if (d.length < rowBytes * rows) throw new Error(`a block decodes to ${d.length} bytes, expected ${rowBytes * rows}`);
    if (lay.predictor === 3) {
      floatingPoint(lay, d, rowBytes, rows); // libtiff leaves these in host (little-endian) order
    } else {
      if (!lay.littleEndian && lay.bytesPerSample > 1) swapBytes(d, lay.bytesPerSample);
      if (lay.predictor === 2) horizontal(lay, d, rowBytes, rows);
    }
    return d;
  }

  /** 4 × 8-bit chunky pixels to 4 bands in file order: words of 4 pixels per band at a time */
  function scatter4x8(src: Uint32Array, s: number, outs: Uint8Array[], words: Uint32Array[], o: number, n: number): void {
    const o0 = outs[0]!, o1 = outs[1]!, o2 = outs[2]!, o3 = outs[3]!;
    const q0 = words[0]!, q1 = words[1]!, q2 = words[2]!, q3 = words[3]!;
    let c = 0;
    for (; c < n && (o + c) & 3; c++) {
      const v = src[s + c]!;
      o0[o + c] = v;
      o1[o + c] = v >>> 8;
      o2[o + c] = v >>> 16;
      o3[o + c] = v >>> 24;
    }
    let q = (o + c) >> 2;
    let p = s + c;
    for (; c + 4 <= n; c += 4, q++, p += 4) {
      const a = src[p]!, b = src[p + 1]!, e = src[p + 2]!, f = src[p + 3]!;
      q0[q] = (a & 255) | ((b & 255) << 8) | ((e & 255) << 16) | (f << 24);
      q1[q] = ((a >>> 8) & 255) | (b & 0xff00) | ((e & 0xff00) << 8) | ((f >>> 8) << 24);
      q2[q] = ((a >>> 16) & 255) | ((b >>> 8) & 0xff00) | (e & 0xff0000) | ((f >>> 16) << 24);
      q3[q] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((e >>> 8) & 0xff0000) | (f & 0xff000000);
    }
    for (; c < n; c++) {
      const v = src[s + c]!;
      o0[o + c] = v;
      o1[o + c] = v >>> 8;
      o2[o + c] = v >>> 16;
      o3[o + c] = v >>> 24;
    }
  }

  function scatter(lay: BlockLayout, win: WindowSpec, outs: BandArray[], block: BlockRef, data: Uint8Array | null): void {
    const { rows } = geometry(lay, block.by);
    const px0 = block.bx * lay.blockW;
    const py0 = block.by * lay.blockH;
    const cx0 = Math.max(win.x0, px0);
    const cx1 = Math.min(win.x1, px0 + lay.blockW, lay.imageW);
    const cy0 = Math.max(win.y0, py0);
    const cy1 = Math.min(win.y1, py0 + rows, lay.imageH);
    if (cx1 <= cx0 || cy1 <= cy0) return;
    const ww = win.x1 - win.x0;
    const n = cx1 - cx0;
    const targets: number[] = [];
    for (let i = 0; i < win.bands.length; i++) if (lay.planar === 1 || win.bands[i] === block.plane) targets.push(i);
    if (!data) {
      if (lay.fill === 0) return; // band arrays start zeroed
      for (const t of targets) for (let y = cy0; y < cy1; y++) outs[t]!.fill(lay.fill, (y - win.y0) * ww + cx0 - win.x0, (y - win.y0) * ww + cx1 - win.x0);
      return;
    }
    // decodeBlock hands out data aligned to 8 bytes
    const src = new (ctorOf(lay))(data.buffer as ArrayBuffer, data.byteOffset, Math.floor(data.byteLength / lay.bytesPerSample));
    const spp = lay.planar === 2 ? 1 : lay.spp;
    if (spp === 1) {
      for (const t of targets) {
        const out = outs[t]!;
        for (let y = cy0; y < cy1; y++) {
          const s = (y - py0) * lay.blockW + (cx0 - px0);
          out.set(src.subarray(s, s + n) as never, (y - win.y0) * ww + cx0 - win.x0);
        }
      }
      return;
    }
    const fileOrder = win.bands.length === 4 && win.bands.every((b, i) => b === i);
    if (spp === 4 && lay.bytesPerSample === 1 && fileOrder && native) {
      const o8 = outs as Uint8Array[];
      const s0 = ((cy0 - py0) * lay.blockW + (cx0 - px0)) * 4;
      if (native.deinterleave4(data, s0, lay.blockW * 4, cy1 - cy0, n, o8[0]!, o8[1]!, o8[2]!, o8[3]!, (cy0 - win.y0) * ww + cx0 - win.x0, ww) === 0) return;
    }
    if (spp === 4 && lay.bytesPerSample === 1 && fileOrder && outs.every((o) => o.byteOffset % 4 === 0)) {
      // little-endian words: sample b of a pixel is bits 8b..8b+7
      const o8 = outs as Uint8Array[];
      const pixels = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
      const words = o8.map((o) => new Uint32Array(o.buffer, o.byteOffset, o.length >> 2));
      for (let y = cy0; y < cy1; y++) {
        scatter4x8(pixels, (y - py0) * lay.blockW + (cx0 - px0), o8, words, (y - win.y0) * ww + cx0 - win.x0, n);
      }
      return;
    }
    for (const t of targets) {
      const out = outs[t]!;
      const band = win.bands[t]!;
      for (let y = cy0; y < cy1; y++) {
        let s = ((y - py0) * lay.blockW + (cx0 - px0)) * spp + band;
        const o = (y - win.y0) * ww + cx0 - win.x0;
        for (let c = 0; c < n; c++, s += spp) out[o + c] = src[s]!;
      }
    }
  }

  return { bandArray, decodeBlock, scatter };
}
