import type { RegionGeometry } from '../contract/geometry.js';

/** [x0, y0, x1, y1] in image pixels, x1/y1 exclusive. */
export type Rect = [number, number, number, number];

export interface ViewSpec {
  size: number;
  maxViews: number;
  maxImagePixels: number;
  /** 'square': the global view is padded to a square around its area (manifest view.pad; viewResample.ts) */
  pad?: 'none' | 'square' | undefined;
}

export interface ViewPlan {
  /** global first, then the grid cells row-major */
  views: Rect[];
  grid: { cols: number; rows: number };
  /** true when the global view is a region-of-interest crop (image over view.maxImagePixels) */
  roi: boolean;
}

/** Axis-aligned bounds of a region geometry in image pixels. */
export function regionBounds(g: RegionGeometry): Rect {
  switch (g.kind) {
    case 'point':
      return [g.x, g.y, g.x, g.y];
    case 'box':
      return [Math.min(g.x0, g.x1), Math.min(g.y0, g.y1), Math.max(g.x0, g.x1), Math.max(g.y0, g.y1)];
    case 'circle':
      return [g.cx - g.r, g.cy - g.r, g.cx + g.r, g.cy + g.r];
    case 'scribble':
    case 'polygon': {
      const pad = g.kind === 'scribble' ? g.width / 2 : 0;
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const [x, y] of g.points) {
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
      return [x0 - pad, y0 - pad, x1 + pad, y1 + pad];
    }
  }
}

/**
 * Region of interest for an image too large to downsample as a whole: the prompts' bounds, padded by half
 * their size on each side (context matters to the model), grown to at least one view edge, then enlarged
 * towards sqrt(maxImagePixels) per side when it is smaller — and clamped to the image.
 */
function roiRect(width: number, height: number, spec: ViewSpec, regions: RegionGeometry[]): Rect {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const r of regions) {
    const b = regionBounds(r);
    x0 = Math.min(x0, b[0]); y0 = Math.min(y0, b[1]); x1 = Math.max(x1, b[2]); y1 = Math.max(y1, b[3]);
  }
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const side = Math.sqrt(spec.maxImagePixels);
  const w = Math.min(width, Math.max((x1 - x0) * 2, spec.size, side));
  const h = Math.min(height, Math.max((y1 - y0) * 2, spec.size, side));
  const clampStart = (c: number, len: number, max: number) => Math.min(Math.max(0, Math.round(c - len / 2)), max - Math.round(len));
  const rx0 = clampStart(cx, w, width), ry0 = clampStart(cy, h, height);
  return [rx0, ry0, rx0 + Math.round(w), ry0 + Math.round(h)];
}

/**
 * Grid for the sub-images (GeoPixel / InternVL style dynamic resolution): among cols×rows ≤ maxViews−1, take
 * the one whose aspect ratio is closest to the area's; on a tie prefer more cells when the area has the
 * pixels to fill them (at least half of cols·rows views' worth), so small images are not blown up.
 */
export function chooseGrid(w: number, h: number, size: number, maxCells: number): { cols: number; rows: number } {
  if (maxCells < 1) return { cols: 0, rows: 0 };
  const aspect = w / h;
  let best = { cols: 1, rows: 1 };
  let bestDiff = Infinity;
  const candidates: { cols: number; rows: number }[] = [];
  for (let c = 1; c <= maxCells; c++) for (let r = 1; c * r <= maxCells; r++) candidates.push({ cols: c, rows: r });
  candidates.sort((a, b) => a.cols * a.rows - b.cols * b.rows || a.cols - b.cols);
  for (const cand of candidates) {
    const diff = Math.abs(Math.log(aspect) - Math.log(cand.cols / cand.rows));
    if (diff < bestDiff - 1e-9) {
      bestDiff = diff;
      best = cand;
    } else if (Math.abs(diff - bestDiff) <= 1e-9 && w * h > 0.5 * size * size * cand.cols * cand.rows) {
      best = cand;
    }
  }
  return best;
}

/** Views for one question: the global view, then the grid cells over it, in image pixels. */
export function planViews(width: number, height: number, spec: ViewSpec, regions: RegionGeometry[] = []): ViewPlan {
  if (!(width > 0 && height > 0)) throw new RangeError(`image size must be positive, got ${width}×${height}`);
  const roi = width * height > spec.maxImagePixels && regions.length > 0;
  const global: Rect = roi ? roiRect(width, height, spec, regions) : [0, 0, width, height];
  const gw = global[2] - global[0], gh = global[3] - global[1];
  const grid = chooseGrid(gw, gh, spec.size, spec.maxViews - 1);
  const views: Rect[] = [spec.pad === 'square' ? padRectSquare(global) : global];
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      views.push([
        global[0] + Math.round((c * gw) / grid.cols),
        global[1] + Math.round((r * gh) / grid.rows),
        global[0] + Math.round(((c + 1) * gw) / grid.cols),
        global[1] + Math.round(((r + 1) * gh) / grid.rows),
      ]);
    }
  }
  return { views, grid, roi };
}

/** expand2square of a rect: a square of the longer side with the rect placed as LLaVA / GeoChat paste the image. */
export function padRectSquare(r: Rect): Rect {
  const w = r[2] - r[0], h = r[3] - r[1];
  if (w === h) return r;
  if (w > h) {
    const y0 = r[1] - Math.floor((w - h) / 2);
    return [r[0], y0, r[2], y0 + w];
  }
  const x0 = r[0] - Math.floor((h - w) / 2);
  return [x0, r[1], x0 + h, r[3]];
}

/** Edge of an instant-mask tile in view sizes: a tile of k·S full-resolution pixels is resized to one S×S view. */
export const INSTANT_TILE_VIEWS = 4;

/**
 * Tile edge, in view sizes, for an instant mask clicked with `viewSpanPx` image pixels across the shorter side of
 * the visible map (absent → INSTANT_TILE_VIEWS): about that span, snapped to a power of two (so clicks at one zoom
 * share tiles and their cached features), at least 1 (never upsampled beyond native pixels) and no more than the
 * smallest such tile holding the whole image.
 */
export function instantTileViews(width: number, height: number, size: number, viewSpanPx?: number): number {
  if (viewSpanPx === undefined) return INSTANT_TILE_VIEWS;
  let maxK = 1;
  while (size * maxK < Math.max(width, height)) maxK *= 2;
  const k = 2 ** Math.round(Math.log2(Math.max(viewSpanPx, 1) / size));
  return Math.min(maxK, Math.max(1, k));
}

/**
 * The instant-mask tile for a point/box prompt (PACK_CONTRACT.md "Instant masks"): the image is covered by a
 * fixed grid of T×T tiles (T = k·S full-resolution pixels; the last tile in a row or column is shifted back so
 * that it ends on the image edge and keeps its size); the prompt belongs to the tile holding the centre of its
 * bounds. Fixed tiles make the grounding features reusable: every later click in that tile is a cache hit.
 * An image no larger than T in both directions is a single tile, the whole image. Returns null when the prompt
 * does not fit inside its tile (e.g. a box across a tile edge): the caller then uses the global view.
 */
export function instantTile(width: number, height: number, size: number, bounds: Rect, k = INSTANT_TILE_VIEWS): Rect | null {
  const T = size * k;
  const axis = (c: number, len: number): [number, number] => {
    if (len <= T) return [0, len];
    const last = Math.ceil(len / T) - 1;
    const idx = Math.min(last, Math.max(0, Math.floor(c / T)));
    const start = Math.min(idx * T, len - T);
    return [start, start + T];
  };
  const [x0, x1] = axis((bounds[0] + bounds[2]) / 2, width);
  const [y0, y1] = axis((bounds[1] + bounds[3]) / 2, height);
  const fits = bounds[0] >= x0 && bounds[2] <= x1 && bounds[1] >= y0 && bounds[3] <= y1;
  return fits ? [x0, y0, x1, y1] : null;
}
