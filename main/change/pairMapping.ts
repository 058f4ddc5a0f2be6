import { VantageError } from '../contract/errors.js';
import { applyGeotransform, invertGeotransform, type Geotransform, type PixelTransform, type XY } from '../contract/georef.js';

/** A manual tie point: the same ground feature at pixel `a` of image A and pixel `b` of image B. */
export interface TiePoint {
  a: XY;
  b: XY;
}

/** What the pairing needs to know about one image. */
export interface PairSide {
  name: string;
  width: number;
  height: number;
  /** null when the image is not georeferenced (or proj4 cannot use its CRS) */
  transform: PixelTransform | null;
  /** why `transform` is null when the file does carry georeferencing */
  transformError: string | null;
  /** proj4 definition of the image CRS, to detect the same-CRS affine fast path */
  proj4: string | null;
  /** true when the geotransform is exact (not a GCP polynomial) */
  affine: boolean;
}

/**
 * How pixels of image A land on image B (both ways). Pixel coordinates are continuous with (0,0) at the top-left
 * corner of the first pixel, as everywhere in the contract.
 */
export interface PairMapping {
  mode: 'georeference' | 'tie-points' | 'same-grid';
  aToB(p: XY): XY;
  bToA(p: XY): XY;
  /** A→B as a geotransform-like affine (u = c0 + x·c1 + y·c2, v = c3 + x·c4 + y·c5) when the mapping is exactly affine */
  affine: Geotransform | null;
  /** RMS residual of the tie-point fit in B pixels (tie-point mode only) */
  tieRmsPx: number | null;
}

/** Least-squares affine A pixel → B pixel through ≥ 3 tie points; refuses collinear sets. */
export function fitTieAffine(ties: TiePoint[]): { affine: Geotransform; rmsPx: number } {
  if (ties.length < 3) {
    throw new VantageError('BAD_INPUT', `an affine alignment needs at least 3 tie points; ${ties.length} given`);
  }
  // normal equations of [1, x, y] for u and v (3×3, solved by Cramer's rule)
  let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  let su = 0, sxu = 0, syu = 0, sv = 0, sxv = 0, syv = 0;
  for (const { a: [x, y], b: [u, v] } of ties) {
    n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
    su += u; sxu += x * u; syu += y * u; sv += v; sxv += x * v; syv += y * v;
  }
  const m = [n, sx, sy, sx, sxx, sxy, sy, sxy, syy];
  const det3 = (a: number[]): number =>
    a[0]! * (a[4]! * a[8]! - a[5]! * a[7]!) - a[1]! * (a[3]! * a[8]! - a[5]! * a[6]!) + a[2]! * (a[3]! * a[7]! - a[4]! * a[6]!);
  const d = det3(m);
  // relative test: the determinant scales with the spread of the points
  const scale = Math.max(1, sxx / n - (sx / n) ** 2, syy / n - (sy / n) ** 2);
  if (Math.abs(d) < 1e-9 * n ** 3 * scale * scale) {
    throw new VantageError('BAD_INPUT', 'the tie points on image A are (nearly) collinear: spread at least 3 of them over the image');
  }
  const solve = (b: number[]): number[] => [0, 1, 2].map((k) => det3(m.map((v, i) => (i % 3 === k ? b[Math.floor(i / 3)]! : v))) / d);
  const [a0, a1, a2] = solve([su, sxu, syu]) as [number, number, number];
  const [b0, b1, b2] = solve([sv, sxv, syv]) as [number, number, number];
  const affine: Geotransform = [a0, a1, a2, b0, b1, b2];
  let ss = 0;
  for (const { a, b } of ties) {
    const [u, v] = applyGeotransform(affine, a[0], a[1]);
    ss += (u - b[0]) ** 2 + (v - b[1]) ** 2;
  }
  return { affine, rmsPx: Math.sqrt(ss / ties.length) };
}

/**
 * Pairs two images: by their georeference (A's CRS is the common one; B is reprojected through WGS84 when the
 * CRSs differ) or, when tie points are given, by the affine through them. Refuses the cases it cannot align
 * with a message saying what to supply.
 */
export function pairMapping(a: PairSide, b: PairSide, ties: TiePoint[] | null): PairMapping {
  if (ties && ties.length > 0) {
    const { affine, rmsPx } = fitTieAffine(ties);
    const inv = invertGeotransform(affine);
    if (!inv) throw new VantageError('BAD_INPUT', 'the tie points give a degenerate (flat) mapping between the images');
    return {
      mode: 'tie-points',
      aToB: (p) => applyGeotransform(affine, p[0], p[1]),
      bToA: (p) => applyGeotransform(inv, p[0], p[1]),
      affine,
      tieRmsPx: rmsPx,
    };
  }
  const ta = a.transform;
  const tb = b.transform;
  if (!ta && !tb && !a.transformError && !b.transformError && a.width === b.width && a.height === b.height) {
    // neither image is placed on the ground, but they share one pixel grid (e.g. a PNG pair cut from the same
    // scene, as change-detection data sets ship): pixel (x, y) of A is pixel (x, y) of B
    const identity: Geotransform = [0, 1, 0, 0, 0, 1];
    return { mode: 'same-grid', aToB: (p) => [p[0], p[1]], bToA: (p) => [p[0], p[1]], affine: identity, tieRmsPx: null };
  }
  if (!ta || !tb) {
    const why = (s: PairSide) => `${s.name} ${s.transformError ? `has unusable georeferencing (${s.transformError})` : 'is not georeferenced'}`;
    const missing = [ta ? null : a, tb ? null : b].filter((s): s is PairSide => s !== null);
    throw new VantageError(
      'BAD_INPUT',
      `${missing.map(why).join(' and ')}` +
        (!ta && !tb && (a.width !== b.width || a.height !== b.height) ? ` and their sizes differ (${a.width}×${a.height} vs ${b.width}×${b.height})` : '') +
        ': the pair cannot be aligned by georeference; give at least 3 tie points ' +
        '(the same features on both images, "xa,ya:xb,yb;…" in pixels) to align it by an affine fit',
    );
  }
  if (a.affine && b.affine && a.proj4 !== null && a.proj4 === b.proj4) {
    // same CRS, both plain geotransforms: A pixel → CRS → B pixel composes into one exact affine
    const invB = invertGeotransform(tb.geotransform)!;
    const ga = ta.geotransform;
    const o = applyGeotransform(invB, ga[0], ga[3]);
    const ex = applyGeotransform(invB, ga[0] + ga[1], ga[3] + ga[4]);
    const ey = applyGeotransform(invB, ga[0] + ga[2], ga[3] + ga[5]);
    const affine: Geotransform = [o[0], ex[0] - o[0], ey[0] - o[0], o[1], ex[1] - o[1], ey[1] - o[1]];
    const inv = invertGeotransform(affine)!;
    return {
      mode: 'georeference',
      aToB: (p) => applyGeotransform(affine, p[0], p[1]),
      bToA: (p) => applyGeotransform(inv, p[0], p[1]),
      affine,
      tieRmsPx: null,
    };
  }
  return {
    mode: 'georeference',
    aToB: (p) => tb.lngLatToPixel(ta.pixelToLngLat(p)),
    bToA: (p) => ta.lngLatToPixel(tb.pixelToLngLat(p)),
    affine: null,
    tieRmsPx: null,
  };
}

/**
 * B-pixel coordinates of the centres of A's pixels in a window [x0,y0,x1,y1) of A. Affine mappings are exact;
 * others are evaluated on a coarse lattice (every `step` pixels) and interpolated bilinearly, as GDAL's
 * approximate transformer does (errors well under 0.01 px for map projections over 8 px).
 */
export function mapWindowCentres(m: PairMapping, win: [number, number, number, number], step = 8): { u: Float64Array; v: Float64Array } {
  const [x0, y0, x1, y1] = win;
  const w = x1 - x0;
  const h = y1 - y0;
  const u = new Float64Array(w * h);
  const v = new Float64Array(w * h);
  if (m.affine) {
    const c = m.affine;
    for (let j = 0; j < h; j++) {
      const y = y0 + j + 0.5;
      for (let i = 0; i < w; i++) {
        const x = x0 + i + 0.5;
        u[j * w + i] = c[0] + x * c[1] + y * c[2];
        v[j * w + i] = c[3] + x * c[4] + y * c[5];
      }
    }
    return { u, v };
  }
  // lattice nodes at every `step` pixel centres; the last node may lie past the window (the mapping is smooth there)
  const gw = Math.max(2, Math.ceil((w - 1) / step) + 1);
  const gh = Math.max(2, Math.ceil((h - 1) / step) + 1);
  const gu = new Float64Array(gw * gh);
  const gv = new Float64Array(gw * gh);
  for (let gj = 0; gj < gh; gj++) {
    for (let gi = 0; gi < gw; gi++) {
      const [pu, pv] = m.aToB([x0 + 0.5 + gi * step, y0 + 0.5 + gj * step]);
      gu[gj * gw + gi] = pu;
      gv[gj * gw + gi] = pv;
    }
  }
  for (let j = 0; j < h; j++) {
    const gj = Math.min(Math.floor(j / step), gh - 2);
    const ty = (j - gj * step) / step;
    for (let i = 0; i < w; i++) {
      const gi = Math.min(Math.floor(i / step), gw - 2);
      const tx = (i - gi * step) / step;
      const k = gj * gw + gi;
      const lerp = (g: Float64Array) => {
        const top = g[k]! + (g[k + 1]! - g[k]!) * tx;
        const bot = g[k + gw]! + (g[k + gw + 1]! - g[k + gw]!) * tx;
        return top + (bot - top) * ty;
      };
      u[j * w + i] = lerp(gu);
      v[j * w + i] = lerp(gv);
    }
  }
  return { u, v };
}

/** Linear scale of the mapping at an A pixel: B pixels per A pixel (√|det J|). */
export function scaleAt(m: PairMapping, p: XY): number {
  const h = 1;
  const o = m.aToB(p);
  const ex = m.aToB([p[0] + h, p[1]]);
  const ey = m.aToB([p[0], p[1] + h]);
  const det = (ex[0] - o[0]) * (ey[1] - o[1]) - (ex[1] - o[1]) * (ey[0] - o[0]);
  return Math.sqrt(Math.abs(det));
}
