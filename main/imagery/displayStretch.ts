import type { RasterSource, WindowData } from './rasterSource.js';

/**
 * How raw values become 8-bit display values. Byte images are shown as stored (through their colour map when
 * they have one); every other type gets a per-band
 * 2–98 % percentile stretch computed once per image from its smallest overview (nodata and NaN excluded).
 */
export interface DisplayStretch {
  /** source band indices shown as R,G,B (one index → grey) */
  bands: number[];
  lo: number[];
  hi: number[];
  identity: boolean;
  /** single-band paletted image: value v is shown as palette[3v..3v+2] */
  palette: Uint8Array | null;
}

const MAX_SAMPLES = 1 << 18;
/** reading more than this many pixels just to find percentiles is not worth it: a centre crop stands in */
const MAX_STATS_PIXELS = 4096 * 4096;

export function displayBands(bandCount: number): number[] {
  return bandCount >= 3 ? [0, 1, 2] : [0];
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))));
  return sorted[i]!;
}

export function stretchFromWindow(data: WindowData, nodata: number | null): { lo: number[]; hi: number[] } {
  const lo: number[] = [];
  const hi: number[] = [];
  for (const band of data.bands) {
    const n = band.length;
    const step = Math.max(1, Math.floor(n / MAX_SAMPLES));
    const vals = new Float64Array(Math.ceil(n / step));
    let k = 0;
    for (let i = 0; i < n; i += step) {
      const v = band[i]!;
      if (Number.isNaN(v) || v === nodata || !Number.isFinite(v)) continue;
      vals[k++] = v;
    }
    const sorted = vals.subarray(0, k).sort();
    let l = percentile(sorted, 2);
    let h = percentile(sorted, 98);
    if (!Number.isFinite(l) || !Number.isFinite(h)) {
      l = 0;
      h = 1;
    }
    if (h <= l) h = l + 1;
    lo.push(l);
    hi.push(h);
  }
  return { lo, hi };
}

export async function computeStretch(source: RasterSource): Promise<DisplayStretch> {
  const { bandCount, dtype, nodata } = source.facts;
  const bands = displayBands(bandCount);
  if (dtype === 'Byte') {
    const palette = bandCount === 1 ? source.facts.palette : null;
    return { bands, lo: bands.map(() => 0), hi: bands.map(() => 255), identity: true, palette };
  }
  const level = source.levels.length - 1;
  const lv = source.levels[level]!;
  let win: [number, number, number, number] = [0, 0, lv.width, lv.height];
  if (lv.width * lv.height > MAX_STATS_PIXELS) {
    const side = Math.min(4096, lv.width, lv.height);
    const x0 = Math.floor((lv.width - side) / 2);
    const y0 = Math.floor((lv.height - side) / 2);
    win = [x0, y0, x0 + side, y0 + side];
  }
  const data = await source.readWindow(level, win, bands);
  return { bands, ...stretchFromWindow(data, nodata), identity: false, palette: null };
}
