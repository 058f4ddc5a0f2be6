import type { Rect } from './viewPlanner.js';

/** A view's pixel-decoder output: M×M mask logits (row-major) over the view's rect in image pixels. */
export interface ViewLogits {
  rect: Rect;
  logits: ArrayLike<number>;
}

/** The composed grid is at most this many times finer than one view's mask (per side). */
export const FINE_MASK_MAX_FACTOR = 4;

/**
 * Cells per side of a fine mask over `global`: the finest sub-view's resolution, N = max over sub-views of
 * ceil(M·gw/vw) and ceil(M·gh/vh), kept between M and min(FINE_MASK_MAX_FACTOR·M, the global rect's longer side in
 * image pixels) — never coarser than the global mask, never finer than the imagery. M = 112, 2×2 grid → 224.
 */
export function fineMaskSize(global: Rect, subViews: Rect[], M: number): number {
  const gw = global[2] - global[0], gh = global[3] - global[1];
  let n = M;
  for (const r of subViews) {
    const vw = r[2] - r[0], vh = r[3] - r[1];
    if (!(vw > 0 && vh > 0)) continue;
    n = Math.max(n, Math.ceil((M * gw) / vw), Math.ceil((M * gh) / vh));
  }
  return Math.max(M, Math.min(n, FINE_MASK_MAX_FACTOR * M, Math.ceil(Math.max(gw, gh))));
}

/** Global-mask cells by which the gate grows the global mask (Chebyshev distance, in the global mask's cells). */
export const FINE_MASK_GATE_CELLS = 1;

/**
 * One mask over the global rect from the pixel decoder's logits on every view of an ask (PACK_CONTRACT.md
 * "Decoding"). The global view says where the object is, the sub-views how its outline runs:
 * - the grid is N×N (fineMaskSize), each cell sampled at its centre (x, y) in image pixels;
 * - the gate: the global mask (global logit > 0) grown by FINE_MASK_GATE_CELLS cells; a sub-view takes part only
 *   when it holds the centre of at least one global-positive cell;
 * - a gated cell takes the logit of the sub-view that holds its centre (nearest mask cell of that view; where
 *   sub-views overlap the smallest one wins, equal ones are averaged); every other cell takes the global logit,
 *   interpolated bilinearly (mask-cell centres, edges clamped). Inside = logit > 0.
 * Without the gate a sub-view that does not show the object can come back all inside (the test pack's does).
 * Float64 throughout; the PyTorch reference (pipeline_reference.py `compose_fine_mask`) does the same steps.
 */
export function composeViewMasks(global: ViewLogits, subViews: ViewLogits[], M: number): { size: number; logits: Float64Array; data: Uint8Array } {
  const [gx0, gy0, gx1, gy1] = global.rect;
  const gw = gx1 - gx0, gh = gy1 - gy0;
  const G = global.logits;
  const clampIdx = (v: number) => Math.min(M - 1, Math.max(0, v));
  const usable = subViews.filter((v) => v.rect[2] > v.rect[0] && v.rect[3] > v.rect[1]);
  const N = fineMaskSize(global.rect, usable.map((v) => v.rect), M);

  const gate = new Uint8Array(M * M);
  const R = FINE_MASK_GATE_CELLS;
  const holds = usable.map(() => false);
  for (let w = 0; w < M; w++) {
    const cy = gy0 + ((w + 0.5) * gh) / M;
    for (let u = 0; u < M; u++) {
      if (!(G[w * M + u]! > 0)) continue;
      for (let b = Math.max(0, w - R); b <= Math.min(M - 1, w + R); b++) for (let a = Math.max(0, u - R); a <= Math.min(M - 1, u + R); a++) gate[b * M + a] = 1;
      const cx = gx0 + ((u + 0.5) * gw) / M;
      for (let k = 0; k < usable.length; k++) {
        const r = usable[k]!.rect;
        if (cx >= r[0] && cx < r[2] && cy >= r[1] && cy < r[3]) holds[k] = true;
      }
    }
  }
  const holding = usable.filter((_, k) => holds[k]);
  const H = holding.length;

  // per grid column / row: the centre, its global mask cell and bilinear sample, and each holding view's mask cell
  // (−1 where the centre lies outside that view)
  const axis = (n0: number, len: number, pick: (r: Rect) => [number, number]) => {
    const centre = new Float64Array(N), cell = new Int32Array(N), lo = new Int32Array(N), hi = new Int32Array(N), t = new Float64Array(N);
    const view = holding.map(() => new Int32Array(N));
    for (let i = 0; i < N; i++) {
      const c = n0 + ((i + 0.5) * len) / N;
      centre[i] = c;
      cell[i] = clampIdx(Math.floor(((c - n0) * M) / len));
      const f = Math.min(M - 1, Math.max(0, ((c - n0) * M) / len - 0.5));
      lo[i] = Math.floor(f);
      hi[i] = Math.min(lo[i]! + 1, M - 1);
      t[i] = f - lo[i]!;
      holding.forEach((v, k) => {
        const [a, b] = pick(v.rect);
        view[k]![i] = c >= a && c < b ? clampIdx(Math.floor(((c - a) * M) / (b - a))) : -1;
      });
    }
    return { cell, lo, hi, t, view };
  };
  const X = axis(gx0, gw, (r) => [r[0], r[2]]);
  const Y = axis(gy0, gh, (r) => [r[1], r[3]]);
  const area = holding.map((v) => (v.rect[2] - v.rect[0]) * (v.rect[3] - v.rect[1]));

  const logits = new Float64Array(N * N);
  const data = new Uint8Array(N * N);
  for (let j = 0; j < N; j++) {
    const gv = Y.cell[j]!, ay = Y.lo[j]!, by = Y.hi[j]!, ty = Y.t[j]!;
    for (let i = 0; i < N; i++) {
      let best = Infinity, sum = 0, count = 0;
      if (gate[gv * M + X.cell[i]!]) {
        for (let k = 0; k < H; k++) {
          const u = X.view[k]![i]!, w = Y.view[k]![j]!;
          if (u < 0 || w < 0 || area[k]! > best) continue;
          if (area[k]! < best) {
            best = area[k]!;
            sum = 0;
            count = 0;
          }
          sum += holding[k]!.logits[w * M + u]!;
          count++;
        }
      }
      let value: number;
      if (count > 0) value = sum / count;
      else {
        const ax = X.lo[i]!, bx = X.hi[i]!, tx = X.t[i]!;
        const top = (1 - tx) * G[ay * M + ax]! + tx * G[ay * M + bx]!;
        const bottom = (1 - tx) * G[by * M + ax]! + tx * G[by * M + bx]!;
        value = (1 - ty) * top + ty * bottom;
      }
      logits[j * N + i] = value;
      data[j * N + i] = value > 0 ? 1 : 0;
    }
  }
  return { size: N, logits, data };
}
