import { describe, expect, it } from 'vitest';
import { changeVectorMagnitude, cleanMask, logRatioDb, otsuThreshold, type GridBands } from './changeDetection.js';

const grid = (w: number, h: number, bands: number[][]): GridBands => ({
  width: w,
  height: h,
  bands: bands.map((b) => Float32Array.from(b)),
  valid: new Uint8Array(w * h).fill(1),
});

describe('change magnitude', () => {
  it('CVA ignores a global gain and offset between dates and sees a local change', () => {
    const base = Array.from({ length: 100 }, (_, i) => (i * 37) % 50);
    const a = grid(10, 10, [base, base.map((v) => 100 - v)]);
    // date B: everything brighter and with more contrast (a different sensor gain), one pixel really changed
    const bb = base.map((v) => 2 * v + 30);
    const changed = [...bb];
    changed[55] = 500;
    const b = grid(10, 10, [changed, base.map((v) => 2 * (100 - v) + 30)]);
    const mag = changeVectorMagnitude(a, b, a.valid);
    const top = [...mag].map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]);
    expect(top[0]![1]).toBe(55);
    expect(top[1]![0]).toBeLessThan(top[0]![0] / 4);
  });

  it('marks pixels without data on either date NaN', () => {
    const a = grid(2, 1, [[1, 2]]);
    const valid = Uint8Array.from([1, 0]);
    expect(Number.isNaN(changeVectorMagnitude(a, a, valid)[1]!)).toBe(true);
  });

  it('log-ratio is the absolute dB difference of intensities', () => {
    const a = grid(3, 1, [[1, 10, 0]]);
    const b = grid(3, 1, [[10, 1, 0]]);
    const r = logRatioDb(a, b, a.valid);
    expect(r[0]).toBeCloseTo(10, 5);
    expect(r[1]).toBeCloseTo(10, 5);
    expect(r[2]).toBeCloseTo(0, 5);
  });
});

describe('Otsu threshold', () => {
  it('separates two well-separated classes', () => {
    const v = new Float32Array(1000);
    for (let i = 0; i < 1000; i++) v[i] = i < 900 ? 1 + (i % 10) * 0.05 : 8 + (i % 10) * 0.1;
    const t = otsuThreshold(v);
    expect(t).toBeGreaterThan(1.45);
    expect(t).toBeLessThan(8);
  });

  it('skips NaN and is Infinity with no data', () => {
    expect(otsuThreshold(Float32Array.from([NaN, NaN]))).toBe(Infinity);
  });
});

describe('area clean-up', () => {
  it('drops small parts and fills small holes, keeps big ones', () => {
    const w = 12, h = 8;
    const m = new Uint8Array(w * h);
    const set = (x: number, y: number) => (m[y * w + x] = 1);
    for (let y = 1; y < 6; y++) for (let x = 1; x < 6; x++) if (!(x === 3 && y === 3)) set(x, y); // 5×5 with a 1-px hole
    set(9, 2); // speckle
    cleanMask(m, w, h, 4);
    expect(m[3 * w + 3]).toBe(1);
    expect(m[2 * w + 9]).toBe(0);
    expect(m.reduce((s, v) => s + v, 0)).toBe(25);
  });
});
