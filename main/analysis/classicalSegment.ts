/**
 * Classical segmentation of the image itself, for masks without any model pack: a box prompt runs a GrabCut-style
 * two-class segmentation (colour models of the box's inside vs a ring outside it, refined by a contrast-sensitive
 * Potts MRF solved by mean-field iterations), a point prompt grows a region from the point whose tolerance is chosen
 * where the region is most stable (MSER-like, over a minimax flood from the seed). Both then open, fill holes and keep
 * the component that best matches the prompt. Pure: typed arrays in, a binary raster out (1 = inside, row-major).
 *
 * Works on the displayed pixels (RGB 8-bit interleaved; a one-band image is three equal channels) at a bounded
 * working resolution (classicalWindow: at most CLASSICAL_MAX_SIZE px per side).
 */

/** RGB interleaved 8-bit, width × height */
export interface RgbRaster {
  width: number;
  height: number;
  data: Uint8Array;
}

/** a prompt in the raster's pixel coordinates (continuous: pixel i covers [i, i+1)) */
export type ClassicalPrompt = { kind: 'point'; x: number; y: number } | { kind: 'box'; x0: number; y0: number; x1: number; y1: number };

/** the largest side of the working raster: larger windows are resampled down to it */
export const CLASSICAL_MAX_SIZE = 256;

/**
 * The image rectangle (image px) a classical mask for `prompt` is computed on, and the working raster's side: a
 * square around the box with a margin for the background ring (or around the point, `pointSpanPx` across), moved
 * inside the image (cut where the image is smaller), read at min(side, CLASSICAL_MAX_SIZE) px.
 */
export function classicalWindow(
  imageW: number,
  imageH: number,
  prompt: ClassicalPrompt,
  pointSpanPx = 160,
): { rect: [number, number, number, number]; size: number } {
  let cx: number, cy: number, side: number;
  if (prompt.kind === 'box') {
    const bw = Math.abs(prompt.x1 - prompt.x0);
    const bh = Math.abs(prompt.y1 - prompt.y0);
    const m = Math.max(bw, bh);
    side = m + 2 * Math.max(6, 0.35 * m);
    cx = (prompt.x0 + prompt.x1) / 2;
    cy = (prompt.y0 + prompt.y1) / 2;
  } else {
    side = Math.max(32, pointSpanPx);
    cx = prompt.x;
    cy = prompt.y;
  }
  const span = (c: number, n: number): [number, number] => {
    const s = Math.min(n, Math.ceil(side));
    let a = Math.round(c - s / 2);
    a = Math.max(0, Math.min(n - s, a));
    return [a, a + s];
  };
  const [x0, x1] = span(cx, imageW);
  const [y0, y1] = span(cy, imageH);
  const size = Math.max(8, Math.min(CLASSICAL_MAX_SIZE, Math.max(x1 - x0, y1 - y0)));
  return { rect: [x0, y0, x1, y1], size };
}

/** A binary mask (1 = inside) of the object the prompt shows, on the raster's grid; all zero when nothing is found. */
export function classicalSegment(img: RgbRaster, prompt: ClassicalPrompt): Uint8Array {
  return prompt.kind === 'box' ? segmentBox(img, prompt) : segmentPoint(img, prompt);
}

// ---------------------------------------------------------------------------------------------------------------
// box: GrabCut-style

const K = 4; // Gaussian components per colour model
const GC_ITERS = 3;
const MF_ITERS = 6;
const GAMMA = 4; // Potts weight (per neighbour, at zero contrast)

/**
 * Tunables of the box segmenter, fixed here for every image. Chosen (README "Benchmarks") on one development tile,
 * SpaceNet tile_r0_c0 (7 buildings), from a small grid, and kept only where a loose box around a clear object still
 * gives that object (classicalSegment.test.ts); the other labelled objects were not used to choose them. A prior
 * favouring foreground at the box's centre scored higher on that tile but failed on loose boxes, and was dropped.
 */
export const BOX_TUNING = {
  /** the first foreground colour model comes from the box's core: inside this share of its inscribed ellipse */
  seedCore: 0.7,
  /** the kept parts are replaced by their convex hull when they fill less than this share of it (compact objects) */
  hullBelow: 0.9,
};
const VAR_FLOOR = 16;
const FIT_SAMPLES = 3000; // pixels a colour model is fitted on // (grey levels)² — noise floor of a component's variance

interface Gmm {
  w: Float64Array;
  mean: Float64Array; // K×3
  ivar: Float64Array; // K×3 (diagonal)
  logNorm: Float64Array; // log(w) − ½·Σ log(2π var)
}

function fitGmm(feat: Float32Array, member: (i: number) => boolean, n: number, seedFrom?: Gmm): Gmm | null {
  // k-means++-free init: split by luminance quantiles (deterministic), then 3 Lloyd/EM-hard steps
  let all = 0;
  for (let i = 0; i < n; i++) if (member(i)) all++;
  if (all < 4) return null;
  // at most FIT_SAMPLES members, evenly strided: the fit costs the same on any window
  const stride = Math.ceil(all / FIT_SAMPLES);
  const count = Math.ceil(all / stride);
  const idx = new Int32Array(count);
  for (let i = 0, j = 0, m = 0; i < n && j < count; i++) if (member(i) && m++ % stride === 0) idx[j++] = i;
  const mean = new Float64Array(K * 3);
  if (seedFrom) mean.set(seedFrom.mean);
  else {
    // initial means: the members at the luminance quantiles (k + ½)/K, found through a luminance histogram
    const hist = new Uint32Array(766);
    for (const i of idx) hist[feat[i * 3]! + feat[i * 3 + 1]! + feat[i * 3 + 2]!]!++;
    const targets = Array.from({ length: K }, (_, k) => Math.floor(((k + 0.5) * count) / K));
    const lumAt: number[] = [];
    let acc = 0;
    for (let v = 0, k = 0; v < 766 && k < K; v++) {
      acc += hist[v]!;
      while (k < K && acc > targets[k]!) {
        lumAt[k] = v;
        k++;
      }
    }
    for (let k = 0; k < K; k++) {
      const want = lumAt[k] ?? 765;
      let j = idx[0]!;
      for (const i of idx) if (feat[i * 3]! + feat[i * 3 + 1]! + feat[i * 3 + 2]! === want) { j = i; break; }
      for (let c = 0; c < 3; c++) mean[k * 3 + c] = feat[j * 3 + c]!;
    }
  }
  const assign = new Uint8Array(idx.length);
  const sum = new Float64Array(K * 3);
  const sq = new Float64Array(K * 3);
  const cnt = new Float64Array(K);
  for (let step = 0; step < 3; step++) {
    sum.fill(0);
    sq.fill(0);
    cnt.fill(0);
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j]! * 3;
      let best = 0;
      let bd = Infinity;
      for (let k = 0; k < K; k++) {
        const d0 = feat[i]! - mean[k * 3]!, d1 = feat[i + 1]! - mean[k * 3 + 1]!, d2 = feat[i + 2]! - mean[k * 3 + 2]!;
        const d = d0 * d0 + d1 * d1 + d2 * d2;
        if (d < bd) {
          bd = d;
          best = k;
        }
      }
      assign[j] = best;
      cnt[best]!++;
      for (let c = 0; c < 3; c++) {
        const v = feat[i + c]!;
        sum[best * 3 + c]! += v;
        sq[best * 3 + c]! += v * v;
      }
    }
    for (let k = 0; k < K; k++) if (cnt[k]! > 0) for (let c = 0; c < 3; c++) mean[k * 3 + c] = sum[k * 3 + c]! / cnt[k]!;
  }
  const g: Gmm = { w: new Float64Array(K), mean, ivar: new Float64Array(K * 3), logNorm: new Float64Array(K) };
  for (let k = 0; k < K; k++) {
    const c0 = cnt[k]!;
    g.w[k] = c0 / idx.length;
    let logDet = 0;
    for (let c = 0; c < 3; c++) {
      const m = c0 > 0 ? sum[k * 3 + c]! / c0 : 0;
      const v = c0 > 1 ? Math.max(VAR_FLOOR, sq[k * 3 + c]! / c0 - m * m) : VAR_FLOOR;
      g.ivar[k * 3 + c] = 1 / v;
      logDet += Math.log(2 * Math.PI * v);
    }
    g.logNorm[k] = c0 > 0 ? Math.log(g.w[k]!) - 0.5 * logDet : -Infinity;
  }
  return g;
}

/** −log p(colour | model), by log-sum-exp over the components */
const ll = new Float64Array(K);
function negLogLik(g: Gmm, feat: Float32Array, i: number): number {
  let best = -Infinity;
  for (let k = 0; k < K; k++) {
    if (g.logNorm[k] === -Infinity) {
      ll[k] = -Infinity;
      continue;
    }
    let q = 0;
    for (let c = 0; c < 3; c++) {
      const d = feat[i * 3 + c]! - g.mean[k * 3 + c]!;
      q += d * d * g.ivar[k * 3 + c]!;
    }
    ll[k] = g.logNorm[k]! - 0.5 * q;
    if (ll[k]! > best) best = ll[k]!;
  }
  let s = 0;
  for (let k = 0; k < K; k++) if (ll[k] !== -Infinity) s += Math.exp(ll[k]! - best);
  return -(best + Math.log(s));
}

function toFeatures(img: RgbRaster): Float32Array {
  const n = img.width * img.height;
  const f = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) f[i] = img.data[i]!;
  return f;
}

function clampBox(img: RgbRaster, b: Extract<ClassicalPrompt, { kind: 'box' }>): [number, number, number, number] {
  // pixels whose centre is inside the box; at least one pixel
  const x0 = Math.max(0, Math.min(img.width - 1, Math.round(Math.min(b.x0, b.x1))));
  const y0 = Math.max(0, Math.min(img.height - 1, Math.round(Math.min(b.y0, b.y1))));
  const x1 = Math.max(x0 + 1, Math.min(img.width, Math.round(Math.max(b.x0, b.x1))));
  const y1 = Math.max(y0 + 1, Math.min(img.height, Math.round(Math.max(b.y0, b.y1))));
  return [x0, y0, x1, y1];
}

function segmentBox(img: RgbRaster, b: Extract<ClassicalPrompt, { kind: 'box' }>): Uint8Array {
  const { width: w, height: h } = img;
  const n = w * h;
  const [bx0, by0, bx1, by1] = clampBox(img, b);
  const boxMask = new Uint8Array(n);
  for (let y = by0; y < by1; y++) boxMask.fill(1, y * w + bx0, y * w + bx1);
  const inBox = (i: number) => boxMask[i] === 1;
  const feat = toFeatures(img);
  // contrast-sensitive Potts weights to the right and down neighbours: γ·exp(−β‖Δc‖²), β = 1 / (2⟨‖Δc‖²⟩)
  const wr = new Float32Array(n);
  const wd = new Float32Array(n);
  let acc = 0, cntE = 0;
  const d2 = (i: number, j: number) => {
    const a = feat[i * 3]! - feat[j * 3]!, bb = feat[i * 3 + 1]! - feat[j * 3 + 1]!, c = feat[i * 3 + 2]! - feat[j * 3 + 2]!;
    return a * a + bb * bb + c * c;
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x + 1 < w) {
        acc += d2(i, i + 1);
        cntE++;
      }
      if (y + 1 < h) {
        acc += d2(i, i + w);
        cntE++;
      }
    }
  const beta = acc > 0 ? cntE / (2 * acc) : 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x + 1 < w) wr[i] = GAMMA * Math.exp(-beta * d2(i, i + 1));
      if (y + 1 < h) wd[i] = GAMMA * Math.exp(-beta * d2(i, i + w));
    }

  // q: probability of foreground; outside the box fixed at 0 (GrabCut's "surely background")
  const q = new Float32Array(n);
  for (let i = 0; i < n; i++) q[i] = inBox(i) ? 1 : 0;
  const dataCost = new Float32Array(n); // D_fg − D_bg
  // the box's core (elliptic distance from the centre below seedCore): where the first foreground model is fitted
  const core = new Uint8Array(n);
  const cx = (bx0 + bx1) / 2, cy = (by0 + by1) / 2, rx = (bx1 - bx0) / 2, ry = (by1 - by0) / 2;
  for (let y = by0; y < by1; y++) for (let x = bx0; x < bx1; x++) if (Math.hypot((x + 0.5 - cx) / rx, (y + 0.5 - cy) / ry) < BOX_TUNING.seedCore) core[y * w + x] = 1;
  let fg: Gmm | null = null, bg: Gmm | null = null;
  for (let it = 0; it < GC_ITERS; it++) {
    // the first foreground model from the box's core (when it holds a few pixels), later ones from the current foreground
    fg = (it === 0 ? fitGmm(feat, (i) => core[i] === 1, n) : null) ?? fitGmm(feat, (i) => q[i]! >= 0.5, n, fg ?? undefined);
    bg = fitGmm(feat, (i) => q[i]! < 0.5, n, bg ?? undefined);
    if (!fg || !bg) break;
    for (let i = 0; i < n; i++) if (inBox(i)) dataCost[i] = negLogLik(fg, feat, i) - negLogLik(bg, feat, i);
    // the first pass starts from the colour models alone (an all-foreground start would hold every pixel in place)
    if (it === 0) for (let i = 0; i < n; i++) if (inBox(i)) q[i] = 1 / (1 + Math.exp(Math.max(-30, Math.min(30, dataCost[i]!))));
    for (let m = 0; m < MF_ITERS; m++) {
      for (let y = by0; y < by1; y++)
        for (let x = bx0; x < bx1; x++) {
          const i = y * w + x;
          // Σ w·(1 − 2q_j): the pairwise pull towards background minus towards foreground
          let s = 0;
          if (x > 0) s += wr[i - 1]! * (1 - 2 * q[i - 1]!);
          if (x + 1 < w) s += wr[i]! * (1 - 2 * q[i + 1]!);
          if (y > 0) s += wd[i - w]! * (1 - 2 * q[i - w]!);
          if (y + 1 < h) s += wd[i]! * (1 - 2 * q[i + w]!);
          const e = dataCost[i]! + s;
          q[i] = e > 30 ? 0 : e < -30 ? 1 : 1 / (1 + Math.exp(e));
        }
    }
  }
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = q[i]! >= 0.5 ? 1 : 0;
  const cleaned = cleanUp(mask, w, h);
  // keep the components that fill the box best: the largest, and any other at least a quarter of its size
  const kept = keepComponents(cleaned, w, h, (areas) => {
    const max = Math.max(0, ...areas);
    return areas.map((a) => a > 0 && a >= max / 4);
  });
  return BOX_TUNING.hullBelow > 0 ? hullIfSparse(kept, w, h, BOX_TUNING.hullBelow) : kept;
}

/** the mask's convex hull (filled) when the mask covers less than `below` of it: fragments of one object joined */
function hullIfSparse(m: Uint8Array, w: number, h: number, below: number): Uint8Array {
  // hull of the pixel corners (monotone chain)
  const pts: [number, number][] = [];
  let area = 0;
  for (let y = 0; y < h; y++) {
    let a = -1, b = -1;
    for (let x = 0; x < w; x++)
      if (m[y * w + x]) {
        area++;
        if (a < 0) a = x;
        b = x;
      }
    if (a >= 0) pts.push([a, y], [a, y + 1], [b + 1, y], [b + 1, y + 1]);
  }
  if (pts.length < 3) return m;
  pts.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  // fill: pixel centres inside the convex polygon
  const out = new Uint8Array(m.length);
  let hullArea = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const c: [number, number] = [x + 0.5, y + 0.5];
      let inside = true;
      for (let i = 0; i < hull.length && inside; i++) if (cross(hull[i]!, hull[(i + 1) % hull.length]!, c) < 0) inside = false;
      if (inside) {
        out[y * w + x] = 1;
        hullArea++;
      }
    }
  return hullArea > 0 && area / hullArea < below ? out : m;
}

// ---------------------------------------------------------------------------------------------------------------
// point: region growing, tolerance from the most stable area

function smoothGrey(img: RgbRaster): Float32Array {
  const { width: w, height: h, data } = img;
  const g = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0, k = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            s += data[(yy * w + xx) * 3 + c]!;
            k++;
          }
        g[(y * w + x) * 3 + c] = s / k;
      }
    }
  return g;
}

function segmentPoint(img: RgbRaster, p: Extract<ClassicalPrompt, { kind: 'point' }>): Uint8Array {
  const { width: w, height: h } = img;
  const n = w * h;
  const px = Math.max(0, Math.min(w - 1, Math.floor(p.x)));
  const py = Math.max(0, Math.min(h - 1, Math.floor(p.y)));
  const f = smoothGrey(img);
  // the seed colour: the median-ish mean of the 5×5 around the point
  const seed = [0, 0, 0];
  let k = 0;
  for (let dy = -2; dy <= 2; dy++)
    for (let dx = -2; dx <= 2; dx++) {
      const x = px + dx, y = py + dy;
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      for (let c = 0; c < 3; c++) seed[c]! += f[(y * w + x) * 3 + c]!;
      k++;
    }
  for (let c = 0; c < 3; c++) seed[c]! /= k;
  const dist = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = f[i * 3]! - seed[0]!, b = f[i * 3 + 1]! - seed[1]!, c = f[i * 3 + 2]! - seed[2]!;
    dist[i] = Math.sqrt(a * a + b * b + c * c);
  }
  // minimax flood: level[i] = the smallest tolerance at which pixel i joins the seed's 4-connected region
  const level = minimaxFlood(dist, w, h, py * w + px);
  // area as a function of tolerance (integer levels), and the most stable level within the size bounds
  const maxLevel = 442;
  const hist = new Uint32Array(maxLevel + 2);
  for (let i = 0; i < n; i++) hist[Math.min(maxLevel, Math.ceil(level[i]!))]!++;
  const area = new Float64Array(maxLevel + 1);
  let run = 0;
  for (let t = 0; t <= maxLevel; t++) area[t] = run += hist[t]!;
  const minArea = Math.max(4, n * 0.0015);
  const maxArea = n * 0.35; // the size cap: a point never takes more than a third of its window
  const delta = 6;
  let bestT = -1;
  let bestStab = Infinity;
  for (let t = delta; t <= maxLevel - delta; t++) {
    const a = area[t]!;
    if (a < minArea) continue;
    if (a > maxArea) break;
    const stab = (area[t + delta]! - area[t - delta]!) / a;
    if (stab < bestStab - 1e-9) {
      bestStab = stab;
      bestT = t;
    }
  }
  const mask = new Uint8Array(n);
  if (bestT < 0) return mask;
  for (let i = 0; i < n; i++) mask[i] = level[i]! <= bestT ? 1 : 0;
  const cleaned = cleanUp(mask, w, h);
  // the component under the point (or, if the opening removed it, the nearest one)
  return keepComponentAt(cleaned, w, h, px, py);
}

/** Dijkstra with max instead of sum over a 4-connected grid (binary heap on levels). */
function minimaxFlood(cost: Float32Array, w: number, h: number, start: number): Float32Array {
  const n = w * h;
  const level = new Float32Array(n).fill(Infinity);
  const done = new Uint8Array(n);
  const heapI = new Int32Array(n * 4 + 4);
  const heapV = new Float32Array(n * 4 + 4);
  let size = 0;
  const push = (i: number, v: number) => {
    let j = size++;
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (heapV[parent]! <= v) break;
      heapI[j] = heapI[parent]!;
      heapV[j] = heapV[parent]!;
      j = parent;
    }
    heapI[j] = i;
    heapV[j] = v;
  };
  const pop = (): number => {
    const top = heapI[0]!;
    const li = heapI[--size]!, lv = heapV[size]!;
    let j = 0;
    for (;;) {
      let c = 2 * j + 1;
      if (c >= size) break;
      if (c + 1 < size && heapV[c + 1]! < heapV[c]!) c++;
      if (heapV[c]! >= lv) break;
      heapI[j] = heapI[c]!;
      heapV[j] = heapV[c]!;
      j = c;
    }
    heapI[j] = li;
    heapV[j] = lv;
    return top;
  };
  level[start] = cost[start]!;
  push(start, level[start]!);
  while (size > 0) {
    const i = pop();
    if (done[i]) continue;
    done[i] = 1;
    const x = i % w, y = (i / w) | 0;
    const visit = (j: number) => {
      if (done[j]) return;
      const v = Math.max(level[i]!, cost[j]!);
      if (v < level[j]!) {
        level[j] = v;
        push(j, v);
      }
    };
    if (x > 0) visit(i - 1);
    if (x + 1 < w) visit(i + 1);
    if (y > 0) visit(i - w);
    if (y + 1 < h) visit(i + w);
  }
  return level;
}

// ---------------------------------------------------------------------------------------------------------------
// morphology and components

/** 3×3 opening (drops specks and one-pixel bridges) when it leaves something, then hole filling */
function cleanUp(mask: Uint8Array, w: number, h: number): Uint8Array {
  const opened = dilate(erode(mask, w, h), w, h);
  let any = false;
  for (let i = 0; i < opened.length; i++) if (opened[i]) { any = true; break; }
  return fillHoles(any ? opened : mask, w, h);
}

function erode(m: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = 1;
      for (let dy = -1; dy <= 1 && v; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue; // the window edge does not erode
          if (!m[yy * w + xx]) { v = 0; break; }
        }
      out[y * w + x] = v;
    }
  return out;
}

function dilate(m: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!m[y * w + x]) continue;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx, yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < w && yy < h) out[yy * w + xx] = 1;
        }
    }
  return out;
}

/** background not 4-connected to the raster's border becomes foreground */
export function fillHoles(m: Uint8Array, w: number, h: number): Uint8Array {
  const outside = new Uint8Array(m.length);
  const stack: number[] = [];
  const seed = (i: number) => {
    if (!m[i] && !outside[i]) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % w, y = (i / w) | 0;
    if (x > 0) seed(i - 1);
    if (x + 1 < w) seed(i + 1);
    if (y > 0) seed(i - w);
    if (y + 1 < h) seed(i + w);
  }
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = outside[i] ? 0 : 1;
  return out;
}

/** 4-connected component labels (0 = background) and each label's area (index = label − 1) */
function components(m: Uint8Array, w: number, h: number): { labels: Int32Array; areas: number[] } {
  const labels = new Int32Array(m.length);
  const areas: number[] = [];
  const stack: number[] = [];
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || labels[s]) continue;
    const id = areas.length + 1;
    let a = 0;
    labels[s] = id;
    stack.push(s);
    while (stack.length) {
      const i = stack.pop()!;
      a++;
      const x = i % w, y = (i / w) | 0;
      for (let d = 0; d < 4; d++) {
        const j = d === 0 ? (x > 0 ? i - 1 : -1) : d === 1 ? (x + 1 < w ? i + 1 : -1) : d === 2 ? (y > 0 ? i - w : -1) : y + 1 < h ? i + w : -1;
        if (j >= 0 && m[j] && !labels[j]) {
          labels[j] = id;
          stack.push(j);
        }
      }
    }
    areas.push(a);
  }
  return { labels, areas };
}

function keepComponents(m: Uint8Array, w: number, h: number, pick: (areas: number[]) => boolean[]): Uint8Array {
  const { labels, areas } = components(m, w, h);
  const keep = pick(areas);
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) if (labels[i] && keep[labels[i]! - 1]) out[i] = 1;
  return out;
}

function keepComponentAt(m: Uint8Array, w: number, h: number, px: number, py: number): Uint8Array {
  const { labels, areas } = components(m, w, h);
  if (areas.length === 0) return m;
  let id = labels[py * w + px]!;
  if (!id) {
    let bd = Infinity;
    for (let i = 0; i < m.length; i++) {
      if (!labels[i]) continue;
      const d = (i % w - px) ** 2 + (((i / w) | 0) - py) ** 2;
      if (d < bd) {
        bd = d;
        id = labels[i]!;
      }
    }
  }
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) if (labels[i] === id) out[i] = 1;
  return out;
}
