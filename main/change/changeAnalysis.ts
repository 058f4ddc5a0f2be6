import path from 'node:path';
import turfArea from '@turf/area';
import type { ChangePolygon, ChangeStats, TiePoint } from '../contract/calls/change.js';
import { VantageError } from '../contract/errors.js';
import type { PixelPolygon } from '../contract/geometry.js';
import type { PixelTransform, XY } from '../contract/georef.js';
import { vectorizeMask } from '../analysis/maskVectorizer.js';
import { guessSource } from '../imagery/imageFacts.js';
import { LruCache } from '../imagery/lruCache.js';
import { OpenImage } from '../imagery/openImage.js';
import type { WindowData } from '../imagery/rasterSource.js';
import {
  boxMean,
  changeVectorMagnitude,
  cleanMask,
  matchHistograms,
  openClose,
  otsuThreshold,
  noiseScaledMagnitude,
  thresholdMask,
  toDb,
  type GridBands,
} from './changeDetection.js';
import { combinePatches, estimateOffset } from './offsetEstimate.js';
import { mapWindowCentres, pairMapping, scaleAt, type PairMapping, type PairSide } from './pairMapping.js';
import type { SarScale } from '../imagery/sarScale.js';

/** Refuse pairs whose resolutions differ more than this (linear): resampling 8× invents or discards too much. */
export const MAX_SCALE_RATIO = 8;
/** Above this ratio the pair is analysed, with a warning. */
const WARN_SCALE_RATIO = 2;
/**
 * Common-grid size limit: at 4 bands, A and resampled B as float32, B's source window, the mapped coordinates and
 * the work arrays come to about 80 bytes a pixel, some 650 MB here.
 */
export const MAX_GRID_PX = 8 * 1024 * 1024;
/** default smallest change of the original detector (cva-otsu) */
const OTSU_MIN_AREA_PX = 9;
/**
 * Default smallest change of cva-matched: a 5 × 5 px blob. After the 3 × 3 opening nothing thinner than 3 px is left;
 * parts under 25 px are at the scale of residual misregistration and of the smoothing itself, not objects an
 * analyst can confirm by eye. Chosen before any scoring against labels (see main/change/bench).
 */
const MATCHED_MIN_AREA_PX = 25;
/** half-size of the smoothing window and of the opening/closing square (3 × 3) */
const SMOOTH_R = 1;

export type ChangeDetector = 'cva-matched' | 'cva-otsu';

export interface AnalyzeOptions {
  tiePoints?: TiePoint[] | null;
  /** m² when georeferenced, else pixels; default 9 pixels' worth */
  minArea?: number;
  /** default 'cva-matched' */
  detector?: ChangeDetector;
  /** SAR: how each image is stored, as the analyst set it in the case (absent/null: decided from the file) */
  sarScales?: { a?: SarScale | null; b?: SarScale | null };
}

/** Everything the analysis produces: stats and polygons for the contract, the mask for storage. */
export interface PairAnalysis {
  stats: ChangeStats;
  polygons: ChangePolygon[];
  /** change mask over stats.overlap.window of A's grid (1 = changed) */
  mask: Uint8Array;
  /** B resampled onto the overlap window (first bands), for tests and previews */
  resampledB: GridBands;
  dates: [string | null, string | null];
}

/** YYYY-MM-DD from a file name such as naip_2009-08-18.tif or m_..._20200831.tif; null when absent. */
export function dateFromName(file: string): string | null {
  const m = /(?:^|[^0-9])((?:19|20)\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?![0-9])/.exec(path.basename(file));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

export function sideOf(img: OpenImage): PairSide {
  const f = img.source.facts;
  return {
    name: path.basename(img.path),
    width: f.width,
    height: f.height,
    transform: img.transform,
    transformError: img.transformError,
    proj4: f.crs?.proj4 ?? null,
    affine: f.geotransform !== null,
  };
}

function haversine([lon1, lat1]: XY, [lon2, lat2]: XY): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Geodesic area of pixel polygons of an image (rings through its pixel → lon/lat transform). */
export function geodesicAreaM2(polys: PixelPolygon[], t: PixelTransform): number {
  let sum = 0;
  for (const poly of polys) {
    const rings = poly.map((ring) => ring.map((p) => t.pixelToLngLat(p as XY)));
    sum += turfArea({ type: 'Polygon', coordinates: rings });
  }
  return sum;
}

function boundary(w: number, h: number, n = 32): XY[] {
  // in ring order: top, right, bottom, left edges
  const pts: XY[] = [];
  for (let i = 0; i < n; i++) pts.push([(w * i) / n, 0]);
  for (let i = 0; i < n; i++) pts.push([w, (h * i) / n]);
  for (let i = 0; i < n; i++) pts.push([w - (w * i) / n, h]);
  for (let i = 0; i < n; i++) pts.push([0, h - (h * i) / n]);
  return pts;
}

/** Reads level-0 bands of a window as float32 plus a validity mask (file mask, nodata in any band, NaN). */
async function readGrid(img: OpenImage, win: [number, number, number, number], bands: number[]): Promise<GridBands> {
  const [x0, y0, x1, y1] = win;
  const w = x1 - x0;
  const h = y1 - y0;
  const at = await img.read(0, win, bands);
  const nodata = img.source.facts.nodata;
  const out = bands.map(() => new Float32Array(w * h));
  const valid = new Uint8Array(w * h).fill(1);
  const src = at as WindowData & { x0: number; y0: number; mask: Uint8Array | null };
  for (let j = 0; j < h; j++) {
    const row = (y0 + j - src.y0) * src.width + (x0 - src.x0);
    for (let i = 0; i < w; i++) {
      const k = j * w + i;
      if (src.mask && !src.mask[j * w + i]) valid[k] = 0;
      for (let b = 0; b < bands.length; b++) {
        const v = Number(src.bands[b]![row + i]);
        out[b]![k] = v;
        if (Number.isNaN(v) || (nodata !== null && v === nodata)) valid[k] = 0;
      }
    }
  }
  return { width: w, height: h, bands: out, valid };
}

/**
 * Resamples B onto A's grid window by bilinear interpolation between B's pixel centres. Like GDAL, neighbours
 * without data are left out and the weights renormalised; a pixel is without data when none of its neighbours has.
 */
export async function resampleOntoA(
  b: OpenImage,
  m: PairMapping,
  win: [number, number, number, number],
  bands: number[],
): Promise<GridBands> {
  const w = win[2] - win[0];
  const h = win[3] - win[1];
  const { u, v } = mapWindowCentres(m, win);
  const bw = b.source.facts.width;
  const bh = b.source.facts.height;
  let ux0 = Infinity, uy0 = Infinity, ux1 = -Infinity, uy1 = -Infinity;
  for (let k = 0; k < u.length; k++) {
    ux0 = Math.min(ux0, u[k]!); ux1 = Math.max(ux1, u[k]!);
    uy0 = Math.min(uy0, v[k]!); uy1 = Math.max(uy1, v[k]!);
  }
  const rx0 = Math.max(0, Math.floor(ux0 - 1));
  const ry0 = Math.max(0, Math.floor(uy0 - 1));
  const rx1 = Math.min(bw, Math.ceil(ux1 + 1));
  const ry1 = Math.min(bh, Math.ceil(uy1 + 1));
  const out = bands.map(() => new Float32Array(w * h));
  const valid = new Uint8Array(w * h);
  if (rx1 <= rx0 || ry1 <= ry0) return { width: w, height: h, bands: out, valid };
  const src = await readGrid(b, [rx0, ry0, rx1, ry1], bands);
  const sw = rx1 - rx0;
  const sh = ry1 - ry0;
  for (let k = 0; k < w * h; k++) {
    const uu = u[k]!;
    const vv = v[k]!;
    if (!(uu >= 0 && vv >= 0 && uu <= bw && vv <= bh)) continue;
    const fx = uu - 0.5 - rx0;
    const fy = vv - 0.5 - ry0;
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const tx = fx - ix;
    const ty = fy - iy;
    let wsum = 0;
    for (let c = 0; c < bands.length; c++) out[c]![k] = 0;
    for (let dy = 0; dy < 2; dy++) {
      const yy = iy + dy;
      if (yy < 0 || yy >= sh) continue;
      const wy = dy ? ty : 1 - ty;
      for (let dx = 0; dx < 2; dx++) {
        const xx = ix + dx;
        if (xx < 0 || xx >= sw) continue;
        const q = yy * sw + xx;
        const wt = wy * (dx ? tx : 1 - tx);
        if (!src.valid[q] || wt === 0) continue;
        wsum += wt;
        for (let c = 0; c < bands.length; c++) out[c]![k] = out[c]![k]! + wt * src.bands[c]![q]!;
      }
    }
    if (wsum > 1e-9) {
      valid[k] = 1;
      for (let c = 0; c < bands.length; c++) out[c]![k] = out[c]![k]! / wsum;
    }
  }
  return { width: w, height: h, bands: out, valid };
}

/** Opens both files (own small cache) and analyses the pair; closes them whatever happens. */
export async function analyzeFiles(fileA: string, fileB: string, opts: AnalyzeOptions = {}): Promise<PairAnalysis> {
  const cache = new LruCache<WindowData>(256 * 1024 * 1024);
  const a = await OpenImage.open(fileA, cache);
  try {
    const b = await OpenImage.open(fileB, cache);
    try {
      return await analyzePair(a, b, opts);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/**
 * Pairs, aligns and compares two images on A's full-resolution grid: overlap, residual offset, change magnitude
 * (CVA or SAR log-ratio), Otsu threshold, area clean-up, pixel-edge polygons with geodesic areas.
 */
export async function analyzePair(a: OpenImage, b: OpenImage, opts: AnalyzeOptions = {}): Promise<PairAnalysis> {
  const sa = sideOf(a);
  const sb = sideOf(b);
  const m = pairMapping(sa, sb, opts.tiePoints ?? null);
  // the common grid is A's: whenever A is georeferenced, areas are in m² (also when tie points align B)
  const ta = a.transform;
  const warnings: string[] = [];

  // overlap window on A: B's outline mapped into A's pixels, clipped to A
  const outline = boundary(sb.width, sb.height).map((p) => m.bToA(p));
  let ox0 = Infinity, oy0 = Infinity, ox1 = -Infinity, oy1 = -Infinity;
  for (const [x, y] of outline) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    ox0 = Math.min(ox0, x); ox1 = Math.max(ox1, x); oy0 = Math.min(oy0, y); oy1 = Math.max(oy1, y);
  }
  const win: [number, number, number, number] = [
    Math.max(0, Math.floor(ox0)),
    Math.max(0, Math.floor(oy0)),
    Math.min(sa.width, Math.ceil(ox1)),
    Math.min(sa.height, Math.ceil(oy1)),
  ];
  const w = win[2] - win[0];
  const h = win[3] - win[1];
  if (!(w > 0 && h > 0)) {
    const where = (img: OpenImage) => {
      const t = img.transform;
      if (!t) return '';
      const c = t.pixelToLngLat([img.source.facts.width / 2, img.source.facts.height / 2]);
      return ` (centre ${c[1].toFixed(5)}°, ${c[0].toFixed(5)}°)`;
    };
    throw new VantageError(
      'BAD_INPUT',
      `the images do not overlap: ${sb.name}${where(b)} falls entirely outside ${sa.name}${where(a)}` +
        (m.mode === 'tie-points' ? '; check the tie points (A pixel first, then B pixel)' : '; pick two images of the same place'),
    );
  }
  const scale = scaleAt(m, [(win[0] + win[2]) / 2, (win[1] + win[3]) / 2]);
  const ratio = scale >= 1 ? scale : 1 / scale;
  if (!Number.isFinite(ratio) || ratio > MAX_SCALE_RATIO) {
    throw new VantageError(
      'BAD_INPUT',
      `the resolutions differ ${ratio.toFixed(1)}× (${scale >= 1 ? `${sb.name} is finer` : `${sb.name} is coarser`}); ` +
        `change detection needs them within ${MAX_SCALE_RATIO}×: resample the finer image first (e.g. gdalwarp -tr) or pick a closer pair`,
    );
  }
  if (ratio > WARN_SCALE_RATIO) {
    warnings.push(`resolutions differ ${ratio.toFixed(1)}×: ${sb.name} is resampled onto ${sa.name}'s grid, small changes may be lost`);
  }
  if (w * h > MAX_GRID_PX) {
    throw new VantageError(
      'UNSUPPORTED',
      `the overlap is ${w}×${h} px of ${sa.name} (over ${MAX_GRID_PX / 1024 / 1024} M px): crop the pair to the area of interest first (gdal_translate -srcwin)`,
    );
  }

  const fa = a.source.facts;
  const fb = b.source.facts;
  const sourceA = guessSource(a.path, fa);
  const sourceB = guessSource(b.path, fb);
  const sar = sourceA === 'sar' || sourceB === 'sar';
  if (sar && sourceA !== sourceB) warnings.push(`comparing a SAR image with an optical one: the dB difference is of little meaning`);
  // an alpha band (last, RGBA GeoTIFF or PNG) is the mask, not data
  const dataA = fa.bandCount - (fa.alphaBand === fa.bandCount - 1 ? 1 : 0);
  const dataB = fb.bandCount - (fb.alphaBand === fb.bandCount - 1 ? 1 : 0);
  const k = sar ? 1 : Math.min(dataA, dataB);
  if (!sar && dataA !== dataB) warnings.push(`band counts differ (${dataA} vs ${dataB}): the first ${k} bands are compared`);
  const bands = Array.from({ length: k }, (_, i) => i);

  const ga = await readGrid(a, win, bands);
  const gb = await resampleOntoA(b, m, win, bands);
  const valid = new Uint8Array(w * h);
  let overlapPx = 0;
  for (let i = 0; i < valid.length; i++) {
    valid[i] = ga.valid[i]! & gb.valid[i]!;
    overlapPx += valid[i]!;
  }
  if (overlapPx < 64) {
    throw new VantageError(
      'BAD_INPUT',
      overlapPx === 0
        ? `the images' footprints touch but no pixel has data on both dates (nodata everywhere in the overlap)`
        : `the images overlap by only ${overlapPx} px with data on both dates: too little to compare`,
    );
  }

  // overlap areas: geodesic on A's grid when A is georeferenced; the share of B through B's own footprint when B
  // is placed by its georeference, else through the mapping's scale (B pixels per A pixel)
  let overlapM2: number | null = null;
  let pixelSizeM: [number, number] | null = null;
  let pctOfB = Math.min(100, (100 * overlapPx * scale * scale) / (sb.width * sb.height));
  if (ta) {
    overlapM2 = geodesicAreaM2(vectorizeMask({ width: w, height: h, data: valid }, { x0: win[0], y0: win[1], sx: 1, sy: 1 }), ta);
    const c: XY = [(win[0] + win[2]) / 2, (win[1] + win[3]) / 2];
    const c0 = ta.pixelToLngLat(c);
    pixelSizeM = [haversine(c0, ta.pixelToLngLat([c[0] + 1, c[1]])), haversine(c0, ta.pixelToLngLat([c[0], c[1] + 1]))];
    if (b.transform && m.mode === 'georeference') {
      const bOutline = boundary(sb.width, sb.height, 16).map((p) => b.transform!.pixelToLngLat(p));
      const bArea = turfArea({ type: 'Polygon', coordinates: [[...bOutline, bOutline[0]!]] });
      pctOfB = bArea > 0 ? Math.min(100, (100 * overlapM2) / bArea) : 0;
    }
  }

  // residual offset: every band's textured patches vote (NCC ignores gain and offset between dates); dates years
  // apart decorrelate many patches, so the median over all convincing ones is the estimate
  const votes = bands.flatMap((c) => estimateOffset(ga.bands[c]!, gb.bands[c]!, w, h, valid, { size: 96, grid: 5 })?.patches ?? []);
  const off = combinePatches(votes);

  // SAR: each date on the dB scale (data already in dB is never logged again), so the change is the dB difference,
  // which is the log-ratio of linear power
  let sarScale: ChangeStats['sarScale'] = null;
  if (sar) {
    const [scA, scB] = [await sarScaleOf(a, opts.sarScales?.a ?? null), await sarScaleOf(b, opts.sarScales?.b ?? null)];
    sarScale = { a: scA.scale, b: scB.scale, why: `A: ${scA.why}; B: ${scB.why}` };
    if (scA.scale !== 'db') ga.bands[0] = toDb(ga.bands[0]!, valid, scA.scale === 'amplitude' ? 20 : 10);
    if (scB.scale !== 'db') gb.bands[0] = toDb(gb.bands[0]!, valid, scB.scale === 'amplitude' ? 20 : 10);
  }

  // change magnitude, threshold, clean-up
  const detector = opts.detector ?? 'cva-matched';
  const pixelM2 = pixelSizeM ? pixelSizeM[0] * pixelSizeM[1] : null;
  const defaultMinPx = detector === 'cva-otsu' ? OTSU_MIN_AREA_PX : MATCHED_MIN_AREA_PX;
  const minAreaPx = opts.minArea === undefined ? defaultMinPx : Math.max(1, Math.ceil(pixelM2 ? opts.minArea / pixelM2 : opts.minArea));
  const { mag, threshold, mask } = detector === 'cva-otsu' ? detectOtsu(ga, gb, valid, sar, minAreaPx) : detectMatched(ga, gb, valid, sar, minAreaPx);
  let changedPx = 0;
  for (const v of mask) changedPx += v;

  const parts = vectorizeMask({ width: w, height: h, data: mask }, { x0: win[0], y0: win[1], sx: 1, sy: 1 });
  const meanOf = partMeans(mask, mag, w, h);
  const polygons: ChangePolygon[] = parts.map((polygon) => ({
    polygon,
    areaPx: ringsArea(polygon),
    areaM2: ta ? geodesicAreaM2([polygon], ta) : null,
    meanMagnitude: meanOf(polygon, win),
  }));
  polygons.sort((p, q) => q.areaPx - p.areaPx);
  const changedM2 = ta ? polygons.reduce((s, p) => s + p.areaM2!, 0) : null;

  const stats: ChangeStats = {
    method: sar ? 'log-ratio' : 'cva',
    detector,
    sarScale,
    bandsCompared: k,
    alignment: {
      mode: m.mode,
      crs: ta ? (fa.crs?.epsg ? `EPSG:${fa.crs.epsg}` : (fa.crs?.name ?? 'custom')) : null,
      tieRmsPx: m.tieRmsPx,
      scaleBPerA: scale,
      resampling: 'bilinear',
      warnings,
    },
    overlap: { px: overlapPx, m2: overlapM2, pctOfA: (100 * overlapPx) / (sa.width * sa.height), pctOfB, window: win },
    offset: off
      ? {
          dxPx: off.dx,
          dyPx: off.dy,
          dxM: pixelSizeM ? off.dx * pixelSizeM[0] : null,
          dyM: pixelSizeM ? off.dy * pixelSizeM[1] : null,
          spreadPx: off.spread,
          patches: off.patches.length,
        }
      : null,
    threshold,
    thresholdMethod: 'otsu',
    minAreaPx,
    changedPx,
    changedM2,
    changedPctOfOverlap: (100 * changedPx) / overlapPx,
    polygonCount: polygons.length,
    pixelSizeM,
  };
  return { stats, polygons, mask, resampledB: gb, dates: [dateFromName(a.path), dateFromName(b.path)] };
}

/**
 * The imagery service's one decision of the SAR scale (sourceKind.ts), asked as SAR when only its pair is; the
 * analyst's statement of the scale (kept in the case) wins.
 */
async function sarScaleOf(img: OpenImage, chosen: SarScale | null): Promise<{ scale: SarScale; why: string }> {
  if (chosen) return { scale: chosen, why: 'set by the analyst' };
  const own = await img.sourceDecision();
  const c = (own.kind === 'sar' ? own : await img.sourceDecision('sar')).calibration;
  return { scale: c?.sarScale ?? 'linear', why: c?.why ?? 'no scale decided' };
}

interface Detection {
  mag: Float32Array;
  threshold: number;
  mask: Uint8Array;
}

/** The original detector: per-band standardised CVA (SAR: absolute dB difference), Otsu, area clean-up. */
function detectOtsu(ga: GridBands, gb: GridBands, valid: Uint8Array, sar: boolean, minAreaPx: number): Detection {
  let mag: Float32Array;
  if (sar) {
    mag = new Float32Array(valid.length);
    for (let i = 0; i < mag.length; i++) mag[i] = valid[i] ? Math.abs(gb.bands[0]![i]! - ga.bands[0]![i]!) : NaN;
  } else {
    mag = changeVectorMagnitude(ga, gb, valid);
  }
  const threshold = otsuThreshold(mag);
  return { mag, threshold, mask: thresholdMask(mag, threshold, ga.width, ga.height, minAreaPx, valid) };
}

/**
 * The default detector: B matched to A (optical; SAR dB is already calibrated and is not matched, a flood must not
 * be normalised away), per-band differences smoothed over 3 × 3, their length in units of each band's robust
 * no-change noise, Otsu's threshold, then opening/closing and the area clean-up. (A χ² significance floor on the
 * noise-scaled magnitude was tried and dropped: on the development pairs the strongest differences are not the
 * labelled changes, so the floor kept precision flat and cut recall to a few per cent; see main/change/bench.)
 */
function detectMatched(ga: GridBands, gb: GridBands, valid: Uint8Array, sar: boolean, minAreaPx: number): Detection {
  const w = ga.width;
  const h = ga.height;
  const bMatched = sar ? gb.bands : matchHistograms(ga, gb, valid);
  const k = sar ? 1 : bMatched.length;
  const diffs: Float32Array[] = [];
  for (let c = 0; c < k; c++) {
    const d = new Float32Array(w * h);
    const va = ga.bands[c]!;
    const vb = bMatched[c]!;
    for (let i = 0; i < d.length; i++) d[i] = valid[i] ? vb[i]! - va[i]! : 0;
    diffs.push(boxMean(d, valid, w, h, SMOOTH_R));
  }
  const mag = noiseScaledMagnitude(diffs, valid);
  const threshold = otsuThreshold(mag);
  const raw = new Uint8Array(mag.length);
  for (let i = 0; i < mag.length; i++) raw[i] = mag[i]! > threshold ? 1 : 0;
  const mask = cleanMask(openClose(raw, w, h, SMOOTH_R, valid), w, h, minAreaPx, valid);
  return { mag, threshold, mask };
}

/**
 * Mean magnitude of each 4-connected changed part, looked up by polygon: an outer ring's first edge borders one
 * changed cell (on its right, rings being clockwise on screen), and that cell's part is the polygon's.
 */
function partMeans(mask: Uint8Array, mag: Float32Array, w: number, h: number): (poly: PixelPolygon, win: [number, number, number, number]) => number {
  const labels = new Int32Array(w * h);
  const sums: number[] = [0];
  const counts: number[] = [0];
  const stack: number[] = [];
  for (let s0 = 0; s0 < mask.length; s0++) {
    if (!mask[s0] || labels[s0]) continue;
    const id = sums.length;
    let sum = 0, n = 0;
    labels[s0] = id;
    stack.push(s0);
    while (stack.length) {
      const p = stack.pop()!;
      const v = mag[p]!;
      if (Number.isFinite(v)) { sum += v; n++; }
      const x = p % w;
      for (const q of [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, p >= w ? p - w : -1, p + w < w * h ? p + w : -1]) {
        if (q >= 0 && mask[q] && !labels[q]) {
          labels[q] = id;
          stack.push(q);
        }
      }
    }
    sums.push(sum);
    counts.push(n);
  }
  return (poly, win) => {
    const ring = poly[0]!;
    const [x0, y0] = ring[0]!;
    const [x1, y1] = ring[1]!;
    const vx = x0 - win[0];
    const vy = y0 - win[1];
    // cell on the right of the edge's direction (y down): +x → (vx, vy), +y → (vx-1, vy), -x → (vx-1, vy-1), -y → (vx, vy-1)
    const cx = x1 > x0 ? vx : x1 < x0 ? vx - 1 : y1 > y0 ? vx - 1 : vx;
    const cy = x1 > x0 ? vy : x1 < x0 ? vy - 1 : y1 > y0 ? vy : vy - 1;
    const l = cx >= 0 && cy >= 0 && cx < w && cy < h ? labels[cy * w + cx]! : 0;
    return l && counts[l]! > 0 ? sums[l]! / counts[l]! : 0;
  };
}

/** Shoelace area of an outer ring minus its holes, in pixels. */
function ringsArea(poly: PixelPolygon): number {
  let total = 0;
  poly.forEach((ring, i) => {
    let s = 0;
    for (let k = 0; k + 1 < ring.length; k++) s += ring[k]![0] * ring[k + 1]![1] - ring[k + 1]![0] * ring[k]![1];
    total += (i === 0 ? 1 : -1) * Math.abs(s / 2);
  });
  return total;
}
