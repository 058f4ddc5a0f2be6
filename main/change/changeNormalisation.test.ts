import { describe, expect, it } from 'vitest';
import { boxMean, changeVectorMagnitude, matchHistograms, noiseScaledMagnitude, openClose, toDb, type GridBands } from './changeDetection.js';
import { decideSarScale, parseGdalMetadata } from '../imagery/sarScale.js';

/** A reproducible pseudo-random sequence (no Math.random in tests: a failure must replay). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A textured 64×64 scene (smooth fields plus noise), 0…255. */
function scene(w: number, h: number, rnd: () => number): Float32Array {
  const v = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v[y * w + x] = 128 + 80 * Math.sin(x / 7) * Math.cos(y / 9) + 20 * (rnd() - 0.5);
  return v;
}

const grid = (w: number, h: number, bands: Float32Array[]): GridBands => ({ width: w, height: h, bands, valid: new Uint8Array(w * h).fill(1) });

describe('radiometric normalisation of B to A', () => {
  const w = 64, h = 64;
  const a = scene(w, h, lcg(1));
  // date B: the same ground through a different, non-linear camera response (gamma and offset), one 8×8 block changed
  const b = a.map((v) => 10 + 255 * (v / 255) ** 1.6);
  const inBlock = (i: number) => i % w >= 20 && i % w < 28 && Math.floor(i / w) >= 30 && Math.floor(i / w) < 38;
  for (let i = 0; i < b.length; i++) if (inBlock(i)) b[i] = 250;
  const A = grid(w, h, [a]);
  const B = grid(w, h, [b]);

  it('histogram matching maps a non-linear response back onto A, leaving the real change', () => {
    const [m] = matchHistograms(A, B, A.valid);
    let worstUnchanged = 0, weakestChanged = Infinity;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(m![i]! - a[i]!);
      if (inBlock(i)) weakestChanged = Math.min(weakestChanged, d);
      else worstUnchanged = Math.max(worstUnchanged, d);
    }
    // a monotone response is undone to within the grey levels the block displaces in the quantiles (1/64 of the scene)
    expect(worstUnchanged).toBeLessThan(12);
    expect(weakestChanged).toBeGreaterThan(3 * worstUnchanged);
    expect(B.bands[0]![0]).toBe(b[0]); // B itself is untouched
  });

  it('does better than the per-band standardisation of the original CVA on that response', () => {
    const [m] = matchHistograms(A, B, A.valid);
    const matchedMag = noiseScaledMagnitude([Float32Array.from(m!, (v, i) => v - a[i]!)], A.valid);
    const cva = changeVectorMagnitude(A, B, A.valid);
    // how far the changed block stands out above the 99th percentile of the unchanged pixels, for each magnitude
    const contrast = (mag: Float32Array) => {
      const un = [...mag].filter((_, i) => !inBlock(i)).sort((p, q) => p - q);
      const ch = [...mag].filter((_, i) => inBlock(i)).sort((p, q) => p - q);
      return ch[Math.floor(ch.length * 0.1)]! / un[Math.floor(un.length * 0.99)]!;
    };
    expect(contrast(matchedMag)).toBeGreaterThan(1.5 * contrast(cva));
  });

  it('scales the magnitude by the robust no-change noise, little moved by a tenth of the pixels changing', () => {
    const rnd = lcg(7);
    const n = 30_000;
    const d = new Float32Array(n);
    // Gaussian noise σ = 4 (Box–Muller) on nine tenths, changes of +40 (10σ) on the rest
    for (let i = 0; i < n; i++) d[i] = i % 10 === 0 ? 40 : 4 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const mag = noiseScaledMagnitude([d], new Uint8Array(n).fill(1));
    const noise = [...mag].filter((_, i) => i % 10 !== 0).sort((p, q) => p - q);
    // |N(0,1)| has median 0.674 and 95th percentile 1.96; the changed tenth moves the median and spread a little
    expect(noise[Math.floor(noise.length / 2)]!).toBeGreaterThan(0.55);
    expect(noise[Math.floor(noise.length / 2)]!).toBeLessThan(0.8);
    expect(noise[Math.floor(noise.length * 0.95)]!).toBeLessThan(2.3);
    expect(mag[0]!).toBeGreaterThan(8);
  });

  it('smooths differences over valid pixels only', () => {
    const v = Float32Array.from([1, 1, 1, 1, 100, 1, 1, 1, 1]);
    const valid = Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const s = boxMean(v, valid, 3, 3, 1);
    expect(s[0]).toBeCloseTo(1, 6); // the invalid 100 does not leak into its neighbours
    expect(s[4]).toBe(0); // nor is anything written where there is no data
  });
});

describe('morphological clean-up of the change mask', () => {
  const w = 20, h = 12;
  const draw = (cells: [number, number][]) => {
    const m = new Uint8Array(w * h);
    for (const [x, y] of cells) m[y * w + x] = 1;
    return m;
  };
  const rect = (x0: number, y0: number, x1: number, y1: number) => {
    const c: [number, number][] = [];
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) c.push([x, y]);
    return c;
  };

  it('opening drops specks and 1-px lines; closing fills a pinhole and bridges a 1-px gap inside a real change', () => {
    const left = rect(2, 2, 9, 9).filter(([x, y]) => !(x === 5 && y === 5)); // 7×7 with a pinhole
    const right = rect(10, 2, 14, 9); // 4×7, one column of no change between the two
    const m = draw([...left, ...right, [17, 4], ...rect(11, 10, 19, 11)]); // a speck and a 1-px-high line
    const out = openClose(m, w, h, 1);
    expect(out[5 * w + 5]).toBe(1);
    for (let y = 2; y < 9; y++) expect(out[y * w + 9]).toBe(1);
    expect(out[4 * w + 17]).toBe(0);
    expect(out.slice(10 * w + 11, 10 * w + 19).every((v) => v === 0)).toBe(true);
    expect(out.reduce((s, v) => s + v, 0)).toBe(12 * 7); // exactly the 12×7 block
  });

  it('keeps a change that touches the edge of the grid, and nothing where there is no data', () => {
    const m = draw(rect(0, 0, 4, 4));
    const valid = new Uint8Array(w * h).fill(1);
    valid[0] = 0;
    const out = openClose(m, w, h, 1, valid);
    expect(out[1 * w + 0]).toBe(1);
    expect(out[0]).toBe(0);
    expect(out.reduce((s, v) => s + v, 0)).toBe(15);
  });
});

describe('SAR scale: dB or linear', () => {
  const hints = { name: 'scene.tif', units: [], descriptions: [], float: true };
  const negative = Float32Array.from({ length: 100 }, (_, i) => -25 + (i % 20));
  const positive = Float32Array.from({ length: 100 }, (_, i) => 0.01 + i * 0.001);

  it('trusts the unit in the metadata first, then names, then the values', () => {
    expect(decideSarScale({ ...hints, units: ['dB'] }, positive).scale).toBe('db');
    expect(decideSarScale({ ...hints, units: ['linear'], name: 'vv_db.tif' }, negative).scale).toBe('linear');
    for (const name of ['S1_VV_db.tif', 'sigma0_db.tif', 'gamma0-dB.tif', 'vv dB.tif']) expect(decideSarScale({ ...hints, name }, positive)).toMatchObject({ scale: 'db' });
    expect(decideSarScale({ ...hints, descriptions: ['Sigma0_VV_db'] }, positive).scale).toBe('db');
    expect(decideSarScale({ ...hints, name: 'database.tif' }, positive).scale).toBe('linear');
    expect(decideSarScale(hints, negative)).toMatchObject({ scale: 'db', why: expect.stringMatching(/negative/) });
    expect(decideSarScale(hints, positive).scale).toBe('linear');
    expect(decideSarScale({ ...hints, float: false }, negative).scale).toBe('linear');
  });

  it('reads units and band names from GDAL metadata', () => {
    const xml = '<GDALMetadata><Item name="DESCRIPTION" sample="0" role="description">VV</Item><Item name="UNITTYPE" sample="0" role="unittype">dB</Item></GDALMetadata>';
    expect(parseGdalMetadata(xml)).toEqual({ units: ['dB'], descriptions: ['VV'], bands: [{ description: 'VV' }] });
  });

  it('turns linear power into dB and leaves no data as NaN', () => {
    const db = toDb(Float32Array.from([1, 0.01, 5]), Uint8Array.from([1, 1, 0]));
    expect(db[0]).toBeCloseTo(0, 6);
    expect(db[1]).toBeCloseTo(-20, 5);
    expect(Number.isNaN(db[2]!)).toBe(true);
  });
});
