/**
 * Classical, model-free change detection on two co-registered rasters (same grid): a change magnitude per pixel,
 * an automatic threshold and a small clean-up. Pure functions over typed arrays.
 */

/** Bands of one image on the common grid, one Float32Array per band, and where they hold data (1 = valid). */
export interface GridBands {
  width: number;
  height: number;
  bands: Float32Array[];
  valid: Uint8Array;
}

function meanStd(band: Float32Array, valid: Uint8Array): [number, number] {
  let n = 0, s = 0, ss = 0;
  for (let i = 0; i < band.length; i++) {
    if (!valid[i]) continue;
    const x = band[i]!;
    n++; s += x; ss += x * x;
  }
  if (n === 0) return [0, 1];
  const m = s / n;
  const sd = Math.sqrt(Math.max(0, ss / n - m * m));
  // a flat band carries no change information; a unit scale keeps it from dividing by zero
  return [m, sd > 1e-9 ? sd : 1];
}

/**
 * Change-vector analysis: each band of each date is standardised over the pixels valid on both dates (which absorbs
 * a global gain/offset between acquisitions), then the magnitude is the Euclidean norm of the band differences.
 * NaN where either date has no data.
 */
export function changeVectorMagnitude(a: GridBands, b: GridBands, valid: Uint8Array): Float32Array {
  const n = a.width * a.height;
  const k = Math.min(a.bands.length, b.bands.length);
  const acc = new Float32Array(n);
  for (let band = 0; band < k; band++) {
    const va = a.bands[band]!;
    const vb = b.bands[band]!;
    const [ma, sa] = meanStd(va, valid);
    const [mb, sb] = meanStd(vb, valid);
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      const d = (va[i]! - ma) / sa - (vb[i]! - mb) / sb;
      acc[i]! += d * d;
    }
  }
  for (let i = 0; i < n; i++) acc[i] = valid[i] ? Math.sqrt(acc[i]!) : NaN;
  return acc;
}

/**
 * Linear power or intensity → dB (10·log10; amplitude: factor 20), floored at 1e-6 so zeros stay finite; NaN where
 * invalid.
 */
export function toDb(band: Float32Array, valid: Uint8Array, factor: 10 | 20 = 10): Float32Array {
  const out = new Float32Array(band.length);
  for (let i = 0; i < band.length; i++) out[i] = valid[i] ? factor * Math.log10(Math.max(band[i]!, 1e-6)) : NaN;
  return out;
}

/**
 * Log-ratio for SAR in linear power: |10·log10(B / A)| in dB on the first band (intensity), the standard detector
 * because speckle is multiplicative; equal to the absolute difference of the two dates in dB. Data already in dB
 * must not come here (see sarScale.ts): the analysis converts only linear images with toDb.
 */
export function logRatioDb(a: GridBands, b: GridBands, valid: Uint8Array): Float32Array {
  const da = toDb(a.bands[0]!, valid);
  const db = toDb(b.bands[0]!, valid);
  for (let i = 0; i < da.length; i++) da[i] = valid[i] ? Math.abs(db[i]! - da[i]!) : NaN;
  return da;
}

/**
 * Otsu's threshold over the finite values (256-bin histogram between the minimum and the 99.9th percentile, so a
 * few extreme pixels do not squash the histogram). Returns the value separating the two classes.
 */
export function otsuThreshold(values: Float32Array): number {
  const finite: number[] = [];
  for (const v of values) if (Number.isFinite(v)) finite.push(v);
  if (finite.length === 0) return Infinity;
  const sorted = Float32Array.from(finite).sort();
  const lo = sorted[0]!;
  const hi = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.999))]!;
  if (!(hi > lo)) return hi;
  const bins = 256;
  const hist = new Float64Array(bins);
  const k = bins / (hi - lo);
  for (const v of sorted) hist[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) * k)))]!++;
  const total = sorted.length;
  let sumAll = 0;
  for (let i = 0; i < bins; i++) sumAll += i * hist[i]!;
  let w0 = 0, sum0 = 0, best = -1, bestI = 0;
  for (let i = 0; i < bins - 1; i++) {
    w0 += hist[i]!;
    sum0 += i * hist[i]!;
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) ** 2;
    if (between > best) {
      best = between;
      bestI = i;
    }
  }
  // the threshold lies at the upper edge of the last bin of the lower class
  return lo + (bestI + 1) / k;
}

/** Labels 4-connected components of cells equal to `value`; returns labels (0 = other) and sizes per label. */
function components(data: Uint8Array, w: number, h: number, value: number): { labels: Int32Array; sizes: number[]; border: boolean[] } {
  const labels = new Int32Array(w * h);
  const sizes = [0];
  const border = [false];
  const stack: number[] = [];
  for (let start = 0; start < data.length; start++) {
    if (labels[start] || (data[start] ? 1 : 0) !== value) continue;
    const id = sizes.length;
    let size = 0;
    let touches = false;
    labels[start] = id;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      size++;
      const x = p % w;
      const y = (p - x) / w;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1) touches = true;
      const visit = (q: number) => {
        if (!labels[q] && (data[q] ? 1 : 0) === value) {
          labels[q] = id;
          stack.push(q);
        }
      };
      if (x > 0) visit(p - 1);
      if (x < w - 1) visit(p + 1);
      if (y > 0) visit(p - w);
      if (y < h - 1) visit(p + w);
    }
    sizes.push(size);
    border.push(touches);
  }
  return { labels, sizes, border };
}

/**
 * Morphological clean-up by area: changed parts smaller than `minAreaPx` are dropped (speckle, residual
 * misregistration along edges) and unchanged holes smaller than that inside a change are filled, so the outlines
 * are not riddled with single pixels. 4-connectivity, like the vectoriser. Mutates and returns `mask`.
 */
export function cleanMask(mask: Uint8Array, w: number, h: number, minAreaPx: number, valid?: Uint8Array): Uint8Array {
  if (minAreaPx <= 1) return mask;
  const fg = components(mask, w, h, 1);
  for (let i = 0; i < mask.length; i++) if (mask[i] && fg.sizes[fg.labels[i]!]! < minAreaPx) mask[i] = 0;
  const bg = components(mask, w, h, 0);
  for (let i = 0; i < mask.length; i++) {
    const l = bg.labels[i]!;
    if (!mask[i] && (!valid || valid[i]) && !bg.border[l] && bg.sizes[l]! < minAreaPx) mask[i] = 1;
  }
  return mask;
}

/** Binary change mask: magnitude above the threshold, then the area clean-up. */
export function thresholdMask(mag: Float32Array, threshold: number, w: number, h: number, minAreaPx: number, valid: Uint8Array): Uint8Array {
  const mask = new Uint8Array(mag.length);
  for (let i = 0; i < mag.length; i++) mask[i] = mag[i]! > threshold ? 1 : 0;
  return cleanMask(mask, w, h, minAreaPx, valid);
}

// ---------------------------------------------------------------------------------------------------------------
// The normalised method ('cva-matched', the default): B matched to A, noise-calibrated magnitude, morphology.
// ---------------------------------------------------------------------------------------------------------------

/** Index of the first element of sorted `s` that is ≥ v (lower) or > v (upper). */
function bound(s: Float32Array, v: number, upper: boolean): number {
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (upper ? s[mid]! <= v : s[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function validValues(band: Float32Array, valid: Uint8Array): Float32Array {
  let n = 0;
  for (let i = 0; i < band.length; i++) n += valid[i]!;
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < band.length; i++) if (valid[i]) out[j++] = band[i]!;
  return out.sort();
}

/**
 * Radiometric normalisation of B to A by histogram matching, band by band, over the pixels valid on both dates:
 * each B value goes to the A value at the same quantile (ties take their mid-rank, so 8-bit data maps evenly).
 *
 * Why matching rather than an IR-MAD-style linear regression on no-change pixels: the pairs analysts bring are
 * mostly differently processed products (Google Earth mosaics, NAIP flights years apart, other cameras and
 * stretches), whose radiometric difference is monotone but not linear; matching absorbs any monotone difference,
 * including the global part of a seasonal shift, whereas a gain/offset fit leaves the curvature as "change". Both
 * rest on the same assumption (changes cover a minority of the scene). Returns new bands; B is not modified.
 */
export function matchHistograms(a: GridBands, b: GridBands, valid: Uint8Array): Float32Array[] {
  const k = Math.min(a.bands.length, b.bands.length);
  const out: Float32Array[] = [];
  for (let c = 0; c < k; c++) {
    const sa = validValues(a.bands[c]!, valid);
    const sb = validValues(b.bands[c]!, valid);
    const vb = b.bands[c]!;
    const o = new Float32Array(vb.length);
    if (sa.length < 2 || sb.length < 2) {
      out.push(Float32Array.from(vb));
      continue;
    }
    // 8-bit and other integer data repeat values: one lookup per distinct value instead of per pixel
    const memo = new Map<number, number>();
    for (let i = 0; i < vb.length; i++) {
      if (!valid[i]) continue;
      const v = vb[i]!;
      let m = memo.get(v);
      if (m === undefined) {
        const mid = (bound(sb, v, false) + bound(sb, v, true) - 1) / 2;
        const q = (Math.max(0, mid) / (sb.length - 1)) * (sa.length - 1);
        const lo = Math.floor(q);
        const hi = Math.min(sa.length - 1, lo + 1);
        m = sa[lo]! + (sa[hi]! - sa[lo]!) * (q - lo);
        if (memo.size < 65536) memo.set(v, m);
      }
      o[i] = m;
    }
    out.push(o);
  }
  return out;
}

/**
 * Mean over a (2r+1)² window of the valid pixels (separable box filter). Smoothing the per-band differences before
 * the magnitude averages out speckle and sub-pixel misregistration along edges, which otherwise read as change.
 */
export function boxMean(band: Float32Array, valid: Uint8Array, w: number, h: number, r = 1): Float32Array {
  const tmp = new Float32Array(w * h);
  const cnt = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, n = 0;
      for (let dx = -r; dx <= r; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= w) continue;
        const q = y * w + xx;
        if (valid[q]) { s += band[q]!; n++; }
      }
      tmp[y * w + x] = s;
      cnt[y * w + x] = n;
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!valid[p]) continue;
      let s = 0, n = 0;
      for (let dy = -r; dy <= r; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        s += tmp[yy * w + x]!;
        n += cnt[yy * w + x]!;
      }
      out[p] = n > 0 ? s / n : 0;
    }
  }
  return out;
}

/** Median of the valid values of a band. */
function medianOf(values: Float32Array, valid: Uint8Array): number {
  const s = validValues(values, valid);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

/**
 * Change magnitude in units of the no-change noise: each band's difference is centred on its median and divided by
 * its robust spread (1.4826 × the median absolute deviation, the standard deviation of Gaussian noise, unmoved by
 * changes as long as they cover under half the overlap), and the magnitude is the Euclidean norm over the bands.
 * A per-band (diagonal) scale on purpose: whitening by the full no-change covariance (as MAD/IR-MAD variates do)
 * inflates the low-variance colour directions, where compression artefacts and colour-balance residue live, and
 * shrinks the brightness direction, where most real change lies. NaN where invalid.
 */
export function noiseScaledMagnitude(diffs: Float32Array[], valid: Uint8Array): Float32Array {
  const n = valid.length;
  const acc = new Float32Array(n);
  const dev = new Float32Array(n);
  for (const d of diffs) {
    const med = medianOf(d, valid);
    for (let i = 0; i < n; i++) dev[i] = Math.abs(d[i]! - med);
    const mad = medianOf(dev, valid);
    // a band without noise (identical, flat) carries no change information at this scale: a unit scale is harmless
    const sigma = mad > 1e-9 ? 1.4826 * mad : 1;
    for (let i = 0; i < n; i++) {
      const z = (d[i]! - med) / sigma;
      acc[i]! += z * z;
    }
  }
  for (let i = 0; i < n; i++) acc[i] = valid[i] ? Math.sqrt(acc[i]!) : NaN;
  return acc;
}

/**
 * Binary erosion or dilation with a (2r+1)² square, separable (rows, then columns). The grid's outside continues
 * its edge pixels, so erosion does not eat changes that touch the edge of the overlap.
 */
function morph(mask: Uint8Array, w: number, h: number, r: number, dilate: boolean): Uint8Array {
  const pass = (src: Uint8Array, at: (x: number, y: number, d: number) => number): Uint8Array => {
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = dilate ? 0 : 1;
        for (let d = -r; d <= r; d++) {
          if (dilate ? src[at(x, y, d)] : !src[at(x, y, d)]) {
            v = dilate ? 1 : 0;
            break;
          }
        }
        out[y * w + x] = v;
      }
    }
    return out;
  };
  const rows = pass(mask, (x, y, d) => y * w + Math.min(w - 1, Math.max(0, x + d)));
  return pass(rows, (x, y, d) => Math.min(h - 1, Math.max(0, y + d)) * w + x);
}

/**
 * Morphological opening then closing with a (2r+1)² square: the opening removes changed specks and lines thinner
 * than the square (speckle, edges left by residual misregistration), the closing bridges gaps and notches of that
 * size inside a real change. Pixels without data end unchanged. Returns a new mask.
 */
export function openClose(mask: Uint8Array, w: number, h: number, r: number, valid?: Uint8Array): Uint8Array {
  if (r < 1) return Uint8Array.from(mask);
  const opened = morph(morph(mask, w, h, r, false), w, h, r, true);
  const closed = morph(morph(opened, w, h, r, true), w, h, r, false);
  if (valid) for (let i = 0; i < closed.length; i++) if (!valid[i]) closed[i] = 0;
  return closed;
}
