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
 * Log-ratio for SAR: |10·log10(B / A)| in dB on the first band (intensity), the standard detector because speckle
 * is multiplicative. Values at or below zero are clamped to a floor so that the ratio stays finite.
 */
export function logRatioDb(a: GridBands, b: GridBands, valid: Uint8Array): Float32Array {
  const n = a.width * a.height;
  const va = a.bands[0]!;
  const vb = b.bands[0]!;
  const out = new Float32Array(n);
  const floor = 1e-6;
  for (let i = 0; i < n; i++) {
    out[i] = valid[i] ? Math.abs(10 * Math.log10(Math.max(vb[i]!, floor) / Math.max(va[i]!, floor))) : NaN;
  }
  return out;
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
