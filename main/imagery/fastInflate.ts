import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeScatter, Zlib } from './blockKernel.js';

/**
 * DEFLATE through libdeflate (native-models/deflate/vantage_deflate.c, built by main/build/buildDeflate.mjs into
 * dist/native/vantage_deflate.node): about twice node:zlib's speed on TIFF blocks, as GDAL gets through libtiff;
 * it also deinterleaves 4 × 8-bit pixels into band arrays (blockKernel's scatter) several times faster than JS.
 * Optional: without the addon or libdeflate.so.0 — or with VANTAGE_DEFLATE=zlib — blocks inflate with node:zlib.
 */
export interface DeflateAddon extends NativeScatter {
  available(): boolean;
  /** zlib stream → dst; bytes written, or -1 (bad data, more than dst holds, no library) */
  inflate(src: Uint8Array, dst: Uint8Array): number;
}

/** VANTAGE_DEFLATE_ADDON, else dist/native/vantage_deflate.node in the nearest folder above this module that has one */
export function deflateAddonFile(): string | null {
  if (process.env.VANTAGE_DEFLATE === 'zlib') return null;
  const given = process.env.VANTAGE_DEFLATE_ADDON;
  if (given) return existsSync(given) ? given : null;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    for (const f of [path.join(dir, 'native', 'vantage_deflate.node'), path.join(dir, 'dist', 'native', 'vantage_deflate.node')]) if (existsSync(f)) return f;
    dir = path.dirname(dir);
  }
  return null;
}

/** the addon when it loads and finds libdeflate, else null */
export function loadDeflateAddon(file = deflateAddonFile()): DeflateAddon | null {
  if (!file) return null;
  try {
    const addon = createRequire(import.meta.url)(file) as DeflateAddon;
    return addon.available() ? addon : null;
  } catch {
    return null;
  }
}

/**
 * node:zlib's inflateSync through the addon where it has one; anything the addon refuses (corrupt or oversized data)
 * goes to node:zlib, which decodes or reports it exactly as before. What it returns is valid until its next call.
 * Self-contained: the decode workers run its text.
 */
export function withLibdeflate(zlib: Zlib, addon: DeflateAddon | null): Zlib {
  if (!addon) return zlib;
  // one output buffer, reused: blockKernel's callers scatter each decoded block before decoding the next
  let scratch = new Uint8Array(0);
  return {
    inflateSync(buf, opts) {
      if (scratch.length < opts.maxOutputLength) scratch = new Uint8Array(opts.maxOutputLength);
      const out = scratch.subarray(0, opts.maxOutputLength);
      const n = addon.inflate(buf, out);
      return n >= 0 ? out.subarray(0, n) : zlib.inflateSync(buf, opts);
    },
  };
}
