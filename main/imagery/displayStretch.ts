import { defaultDisplay, type ColourMap, type ImageDisplay } from '../contract/imageDisplay.js';
import type { NumericArray, RasterSource, WindowData } from './rasterSource.js';
import { recycleBands } from './tiffBlocks.js';
import type { SarScale } from './sarScale.js';

/**
 * A display (contract ImageDisplay) resolved to numbers for one image: the bands to read, per-channel value
 * range in the displayed domain (dB for SAR, index for NDVI), gamma and colour table. Percentile stretches are
 * computed once per image and display from the smallest overview (nodata and NaN excluded).
 */
export interface RenderPlan {
  kind: 'rgb' | 'single' | 'ndvi';
  /** source band indices to read (rgb: 3, single: 1, ndvi: [nir, red]) */
  bands: number[];
  /** per output channel (single/ndvi: one) */
  lo: number[];
  hi: number[];
  gamma: number;
  /** show 10·log10(v) instead of v (amplitude: 20·log10, dbScale 2) */
  db: boolean;
  /** multiplies 10·log10(v): 1 for linear power, 2 for amplitude */
  dbScale?: number;
  /** 256 RGB triplets for single/ndvi; null → grey */
  lut: Uint8Array | null;
  /** TIFF palette: raw value v → palette[3v..] (8-bit single band, colourMap 'palette') */
  palette: Uint8Array | null;
  smooth: boolean;
  /** ground size (m) of a full-res pixel, x and y, for hillshading a single band; null → no shading */
  hillshade: [number, number] | null;
}

const MAX_SAMPLES = 1 << 18;
/** reading more than this many pixels just to find percentiles is not worth it: a centre crop stands in */
const MAX_STATS_PIXELS = 4096 * 4096;

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))));
  return sorted[i]!;
}

/** the displayed quantity of a pixel's raw values (before stretch); NaN when it has none */
type Measure = (vals: number[]) => number;

function rangeOf(values: Float64Array, n: number, loP: number, hiP: number): [number, number] {
  const sorted = values.subarray(0, n).sort();
  let l = percentile(sorted, loP);
  let h = percentile(sorted, hiP);
  if (!Number.isFinite(l) || !Number.isFinite(h)) {
    l = 0;
    h = 1;
  }
  if (h <= l) h = l + 1;
  return [l, h];
}

/** per-channel percentile range of a window's values through `measures` (one per output channel) */
export function percentileRanges(data: WindowData, nodata: number | null, measures: { bands: number[]; f: Measure }[], loP: number, hiP: number) {
  const lo: number[] = [];
  const hi: number[] = [];
  const n = data.width * data.height;
  const step = Math.max(1, Math.floor(n / MAX_SAMPLES));
  for (const m of measures) {
    const vals = new Float64Array(Math.ceil(n / step));
    const arrs = m.bands.map((b) => data.bands[b]!);
    const px: number[] = new Array(arrs.length);
    let k = 0;
    for (let i = 0; i < n; i += step) {
      let skip = false;
      for (let j = 0; j < arrs.length; j++) {
        const v = arrs[j]![i]!;
        if (v !== v || v === nodata || !Number.isFinite(v)) skip = true;
        px[j] = v;
      }
      if (skip) continue;
      const d = m.f(px);
      if (Number.isFinite(d)) vals[k++] = d;
    }
    const [l, h] = rangeOf(vals, k, loP, hiP);
    lo.push(l);
    hi.push(h);
  }
  return { lo, hi };
}

/** kept for callers that want the plain per-band 2–98 % stretch */
export function stretchFromWindow(data: WindowData, nodata: number | null): { lo: number[]; hi: number[] } {
  return percentileRanges(data, nodata, data.bands.map((_, b) => ({ bands: [b], f: (v: number[]) => v[0]! })), 2, 98);
}

export const dbOf = (v: number): number => (v > 0 ? 10 * Math.log10(v) : NaN);
export const ndviOf = (nir: number, red: number): number => (nir + red === 0 ? NaN : (nir - red) / (nir + red));

async function statsWindow(source: RasterSource, bands: number[]): Promise<WindowData> {
  const level = source.levels.length - 1;
  const lv = source.levels[level]!;
  let win: [number, number, number, number] = [0, 0, lv.width, lv.height];
  if (lv.width * lv.height > MAX_STATS_PIXELS) {
    const side = Math.min(4096, lv.width, lv.height);
    const x0 = Math.floor((lv.width - side) / 2);
    const y0 = Math.floor((lv.height - side) / 2);
    win = [x0, y0, x0 + side, y0 + side];
  }
  return source.readWindow(level, win, bands);
}

/** Colour tables as a few control points, interpolated to 256 entries. */
const STOPS: Record<Exclude<ColourMap, 'grey' | 'palette'>, [number, number, number][]> = {
  inferno: [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]],
  viridis: [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]],
  // diverging red → yellow → green (ColorBrewer RdYlGn end and mid points): NDVI's usual look
  // hypsometric tints, low → high: green lowland, yellow and brown hills, grey rock, white summits
  terrain: [[0, 97, 71], [16, 122, 47], [232, 215, 125], [161, 67, 0], [158, 0, 0], [110, 110, 110], [255, 255, 255]],
  rdylgn: [[165, 0, 38], [215, 48, 39], [244, 109, 67], [253, 174, 97], [254, 224, 139], [255, 255, 191], [217, 239, 139], [166, 217, 106], [102, 189, 99], [26, 152, 80], [0, 104, 55]],
};

export function colourTable(map: ColourMap): Uint8Array | null {
  if (map === 'grey' || map === 'palette') return null;
  const stops = STOPS[map];
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const a = Math.min(stops.length - 2, Math.floor(t));
    const f = t - a;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(stops[a]![c]! * (1 - f) + stops[a + 1]![c]! * f);
  }
  return out;
}

/** Resolves a display for one source (reads its smallest overview when the stretch is by percentile). */
export async function resolvePlan(source: RasterSource, display: ImageDisplay, storedAs: SarScale | boolean = 'linear'): Promise<RenderPlan> {
  const { nodata } = source.facts;
  const kind: RenderPlan['kind'] = display.preset === 'ndvi' ? 'ndvi' : display.bands.length === 3 ? 'rgb' : 'single';
  // values already in dB are shown as they are: their log is NaN for every negative value (an opaque black image)
  const scale: SarScale = storedAs === true ? 'db' : storedAs === false ? 'linear' : storedAs;
  const db = display.preset === 'sar-db' && scale !== 'db';
  const dbScale = scale === 'amplitude' ? 2 : 1;
  const bands = display.bands;
  const palette = kind === 'single' && display.colourMap === 'palette' ? source.facts.palette : null;
  let lo: number[];
  let hi: number[];
  const channels = kind === 'rgb' ? 3 : 1;
  if (display.stretch.kind === 'minmax') {
    lo = new Array(channels).fill(display.stretch.min);
    hi = new Array(channels).fill(display.stretch.max);
  } else {
    const data = await statsWindow(source, bands);
    const measures =
      kind === 'ndvi'
        ? [{ bands: [0, 1], f: (v: number[]) => ndviOf(v[0]!, v[1]!) }]
        : bands.map((_, b) => ({ bands: [b], f: db ? (v: number[]) => dbOf(v[0]!) * dbScale : (v: number[]) => v[0]! }));
    ({ lo, hi } = percentileRanges(data, nodata, measures, display.stretch.lo, display.stretch.hi));
    recycleBands(data.bands);
  }
  return {
    kind,
    bands,
    lo,
    hi,
    gamma: display.gamma,
    db,
    dbScale,
    lut: kind === 'rgb' ? null : colourTable(display.colourMap),
    palette,
    smooth: display.sarSpeckleSmoothing,
    hillshade: kind === 'single' && display.hillshade ? groundPixelSize(source.facts) : null,
  };
}

/** metres per full-res pixel along x and y (geographic CRSs: at the image's centre latitude); null without a grid */
function groundPixelSize(f: RasterSource['facts']): [number, number] | null {
  const g = f.geotransform;
  if (!g) return null;
  const geographic = f.crs?.epsg === 4326 || /\+proj=longlat/.test(f.crs?.proj4 ?? '');
  let mx = Math.hypot(g[1]!, g[4]!);
  let my = Math.hypot(g[2]!, g[5]!);
  if (geographic) {
    const lat = ((g[3]! + (g[5]! * f.height) / 2) * Math.PI) / 180;
    mx *= 111320 * Math.cos(lat);
    my *= 110574;
  }
  return mx > 0 && my > 0 ? [mx, my] : null;
}

export function defaultDisplayOf(source: RasterSource): ImageDisplay {
  const f = source.facts;
  return defaultDisplay({ bandCount: f.bandCount, dtype: f.dtype, hasPalette: f.palette !== null });
}

export type { NumericArray };
