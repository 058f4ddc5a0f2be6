import { addDecoder, BaseDecoder } from 'geotiff';

/**
 * TIFF LZW (MSB-first codes, "early change" width switch) with bounds: geotiff.js's decoder follows corrupt
 * dictionary links forever and grows its output until the process runs out of memory (found by the fuzz test).
 * Here every code is checked and the output may not exceed `maxOut` bytes (the block's decoded size).
 * Self-contained (no module-scope names): decodePool.ts runs its source text in the decode workers.
 */
export function lzwDecode(input: Uint8Array, maxOut: number): Uint8Array {
  const CLEAR = 256;
  const EOI = 257;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  // grows on demand: a strip's stated size (RowsPerStrip may be "all rows") can be far beyond what it holds
  let out = new Uint8Array(Math.min(maxOut, Math.max(4096, input.length * 4)));
  const totalBits = input.length * 8;
  let o = 0;
  let pos = 0;
  let width = 9;
  let next = 258;
  let old = -1;
  const corrupt = (why: string) => new Error(`corrupt LZW data: ${why}`);
  const write = (code: number) => {
    const n = length[code]!;
    if (o + n > out.length) {
      if (o + n > maxOut) throw corrupt(`decodes to more than the block's ${maxOut} bytes`);
      const bigger = new Uint8Array(Math.min(maxOut, Math.max(o + n, out.length * 2)));
      bigger.set(out.subarray(0, o));
      out = bigger;
    }
    let k = o + n - 1;
    for (let c = code; c !== -1; c = prefix[c]!) out[k--] = suffix[c]!;
    o += n;
  };
  const add = (p: number, c: number) => {
    if (next >= 4096) return; // table full without a clear code: keep decoding with the table as it is
    prefix[next] = p;
    suffix[next] = c;
    first[next] = first[p]!;
    length[next] = Math.min(65535, length[p]! + 1);
    next++;
    if (next + 1 >= 1 << width && width < 12) width++;
  };
  for (;;) {
    if (pos + width > totalBits) break; // ran out of input before EOI: keep what was decoded (as libtiff does)
    let code = 0;
    for (let b = 0; b < width; b++, pos++) code = (code << 1) | ((input[pos >> 3]! >> (7 - (pos & 7))) & 1);
    if (code === EOI) break;
    if (code === CLEAR) {
      next = 258;
      width = 9;
      old = -1;
      continue;
    }
    if (old === -1) {
      if (code > 255) throw corrupt(`code ${code} right after a clear code`);
      write(code);
      old = code;
      continue;
    }
    if (code < next) {
      write(code);
      add(old, first[code]!);
    } else if (code === next) {
      add(old, first[old]!);
      write(code);
    } else {
      throw corrupt(`code ${code} beyond the table (${next})`);
    }
    old = code;
  }
  return out.subarray(0, o);
}

interface DecoderParams {
  tileWidth: number;
  tileHeight: number;
  planarConfiguration: number;
  bitsPerSample: number | ArrayLike<number>;
}

class SafeLzwDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBuffer): ArrayBuffer {
    const p = (this as unknown as { parameters: DecoderParams }).parameters;
    const bits = typeof p.bitsPerSample === 'number' ? [p.bitsPerSample] : Array.from(p.bitsPerSample);
    const bytesPerPixel = p.planarConfiguration === 2 ? Math.ceil(bits[0]! / 8) : Math.ceil(bits.reduce((a, b) => a + b, 0) / 8);
    const max = p.tileWidth * p.tileHeight * bytesPerPixel;
    const out = lzwDecode(new Uint8Array(buffer), max);
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
  }
}

let installed = false;
/** replaces geotiff.js's LZW decoder (compression 5) in this thread */
export function installSafeLzw(): void {
  if (installed) return;
  installed = true;
  addDecoder(5, () => Promise.resolve(SafeLzwDecoder as never), undefined, false);
}
