/**
 * Residual misregistration between two rasters already on the same grid, by normalised cross-correlation of a few
 * textured patches (integer search, then a parabola through the peak's neighbours for the sub-pixel part).
 * Sign: B's content at (x + dx, y + dy) matches A's content at (x, y).
 */

export interface PatchOffset {
  /** patch centre on the grid */
  x: number;
  y: number;
  dx: number;
  dy: number;
  /** NCC at the peak, −1…1 */
  score: number;
}

export interface OffsetEstimate {
  dx: number;
  dy: number;
  /** median distance of the patch offsets from the estimate, px */
  spread: number;
  patches: PatchOffset[];
}

const MIN_SCORE = 0.5;

function ncc(a: Float32Array, b: Float32Array, w: number, ax: number, ay: number, bx: number, by: number, size: number, valid: Uint8Array): number {
  let n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let j = 0; j < size; j++) {
    const ra = (ay + j) * w + ax;
    const rb = (by + j) * w + bx;
    for (let i = 0; i < size; i++) {
      if (!valid[ra + i] || !valid[rb + i]) continue;
      const va = a[ra + i]!;
      const vb = b[rb + i]!;
      n++; sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb;
    }
  }
  if (n < (size * size) / 2) return -1;
  const cov = sab - (sa * sb) / n;
  const da = saa - (sa * sa) / n;
  const db = sbb - (sb * sb) / n;
  return da > 1e-9 && db > 1e-9 ? cov / Math.sqrt(da * db) : -1;
}

/** Sub-pixel peak of three samples f(−1), f(0), f(+1). */
function parabolic(m: number, c: number, p: number): number {
  const den = m - 2 * c + p;
  return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (m - p)) / den)) : 0;
}

/**
 * Estimates the offset on up to `grid`² patches of `size` px spread over the grid, searching ±`radius` px, keeping
 * the patches whose peak correlation is convincing; the estimate is the median over those. Null when no patch is.
 */
export function estimateOffset(
  a: Float32Array,
  b: Float32Array,
  w: number,
  h: number,
  valid: Uint8Array,
  opts: { size?: number; radius?: number; grid?: number } = {},
): OffsetEstimate | null {
  const radius = opts.radius ?? 6;
  const size = Math.min(opts.size ?? 64, w - 2 * radius - 2, h - 2 * radius - 2);
  if (size < 16) return null;
  const grid = opts.grid ?? 3;
  const patches: PatchOffset[] = [];
  for (let gj = 0; gj < grid; gj++) {
    for (let gi = 0; gi < grid; gi++) {
      const ax = Math.round(radius + 1 + ((w - size - 2 * radius - 2) * (gi + 0.5)) / grid);
      const ay = Math.round(radius + 1 + ((h - size - 2 * radius - 2) * (gj + 0.5)) / grid);
      const side = 2 * radius + 1;
      const scores = new Float64Array(side * side);
      let best = -Infinity, bi = 0, bj = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          const s = ncc(a, b, w, ax, ay, ax + dx, ay + dy, size, valid);
          scores[(dy + radius) * side + dx + radius] = s;
          if (s > best) {
            best = s;
            bi = dx;
            bj = dy;
          }
        }
      }
      // a peak on the search border is not a peak: the true offset may lie outside
      if (best < MIN_SCORE || Math.abs(bi) === radius || Math.abs(bj) === radius) continue;
      const at = (dx: number, dy: number) => scores[(dy + radius) * side + dx + radius]!;
      patches.push({
        x: ax + size / 2,
        y: ay + size / 2,
        dx: bi + parabolic(at(bi - 1, bj), best, at(bi + 1, bj)),
        dy: bj + parabolic(at(bi, bj - 1), best, at(bi, bj + 1)),
        score: best,
      });
    }
  }
  return combinePatches(patches);
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The offset of a set of patch measurements: the median (robust to patches on changed ground, which correlate
 * on the wrong structure), with the median absolute deviation as its spread. Null when there are none.
 */
export function combinePatches(patches: PatchOffset[]): OffsetEstimate | null {
  if (patches.length === 0) return null;
  const dx = median(patches.map((p) => p.dx));
  const dy = median(patches.map((p) => p.dy));
  const spread = median(patches.map((p) => Math.hypot(p.dx - dx, p.dy - dy)));
  return { dx, dy, spread, patches };
}

/**
 * Gradient magnitude (Sobel) of an image: field edges, roads and buildings keep their place across dates while
 * their brightness changes with season and sensor, so offsets are measured on this rather than on raw values.
 */
export function gradientMagnitude(img: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gx = img[i - w + 1]! + 2 * img[i + 1]! + img[i + w + 1]! - img[i - w - 1]! - 2 * img[i - 1]! - img[i + w - 1]!;
      const gy = img[i + w - 1]! + 2 * img[i + w]! + img[i + w + 1]! - img[i - w - 1]! - 2 * img[i - w]! - img[i - w + 1]!;
      out[i] = Math.hypot(gx, gy);
    }
  }
  return out;
}
