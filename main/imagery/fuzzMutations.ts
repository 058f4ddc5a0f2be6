/** Mutations of real TIFF files for the fuzz test (deterministic: a case replays from its seed). */
import { seededRandom } from '../util/seededRandom.js';

/** deterministic PRNG: a failing case can be replayed by its seed */
export const rng = seededRandom;

/** byte ranges worth corrupting: header, first IFD (entries + out-of-line values), and anywhere */
export function mutate(src: Buffer, r: () => number): { bytes: Buffer; how: string } {
  const kind = Math.floor(r() * 5);
  const le = src.toString('latin1', 0, 2) === 'II';
  const ifd = src.length >= 8 ? (le ? src.readUInt32LE(4) : src.readUInt32BE(4)) : 8;
  const ifdEnd = Math.min(src.length, ifd + 2 + 12 * 40 + 4);
  const pick = (lo: number, hi: number) => lo + Math.floor(r() * Math.max(1, hi - lo));
  const out = Buffer.from(src);
  switch (kind) {
    case 0: {
      const n = pick(0, src.length);
      return { bytes: out.subarray(0, n), how: `truncate to ${n}` };
    }
    case 1: {
      const at = pick(0, Math.min(16, src.length));
      out[at] = out[at]! ^ (1 << pick(0, 8));
      return { bytes: out, how: `flip header byte ${at}` };
    }
    case 2: {
      const hows: string[] = [];
      for (let k = 0; k < 1 + pick(0, 4); k++) {
        const at = pick(ifd, ifdEnd);
        out[at] = pick(0, 256);
        hows.push(String(at));
      }
      return { bytes: out, how: `randomise IFD bytes ${hows.join(',')}` };
    }
    case 3: {
      // out-of-line tag data (offset tables, geokeys) of COGs sits in the first few KB after the IFDs
      const at = pick(ifdEnd, Math.min(src.length, 16384));
      out[at] = out[at]! ^ 0xff;
      const at2 = Math.min(src.length - 1, at + 1);
      out[at2] = out[at2]! ^ 0x80;
      return { bytes: out, how: `flip table bytes at ${at}` };
    }
    default: {
      const at = pick(0, src.length);
      const len = pick(1, 64);
      for (let i = at; i < Math.min(src.length, at + len); i++) out[i] = pick(0, 256);
      return { bytes: out, how: `randomise ${len} bytes at ${at}` };
    }
  }
}

