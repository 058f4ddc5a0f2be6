import type { CaseRepository, NewMask } from '../../db/repository.js';
import type { PixelPolygon } from '../contract/geometry.js';
import { VantageError } from '../contract/errors.js';
import type { Mask } from '../contract/index.js';
import { decodeRle, encodeRle, maskArea, maskBounds, vectorizeMask, type BinaryMask, type GridPlacement } from '../analysis/maskVectorizer.js';
import type { MaskOut } from '../inference/protocol.js';

/**
 * Measurement of masks, done ONCE: when a model mask is stored (answers, batches, change captions), when a case is
 * imported (from the rasters in the file, never trusting its outlines) and when an older case database is opened
 * (rows stored before the outline was clipped to the image). Exports read what was stored.
 */

export interface StoredMaskRaster {
  /** the model's M×M raster: run lengths from the masks table */
  rle: { width: number; height: number; origin: [number, number]; runs: number[] };
  /** [x0, y0, x1, y1] of the foreground in image pixels: with the raster's own bounds it gives the cell size */
  bbox: [number, number, number, number];
}

export interface MaskOutline {
  polygons: PixelPolygon[];
  placement: GridPlacement;
  /** the foreground reaches the image edge: the object may continue outside the image, its area is a lower bound */
  touchesEdge: boolean;
  /** cells outside the image were dropped */
  clippedCells: number;
}

/** what a stored mask holds besides its provenance: outline (clipped to the image), bbox, raster and area */
export type MeasuredMask = Pick<NewMask, 'bbox' | 'rle' | 'polygons' | 'areaPx'>;

/** A stored outline reaches the image's border: the object may continue outside, its area is a lower bound. */
export function reachesImageEdge(polygons: PixelPolygon[], image: { width: number; height: number }): boolean {
  for (const p of polygons) for (const ring of p) for (const [x, y] of ring) if (x <= 0 || y <= 0 || x >= image.width || y >= image.height) return true;
  return false;
}

/**
 * The exact outline of a stored mask, clipped to the image: rebuilt from the raster (the source of truth) rather
 * than trusting stored polygons. Throws a clear BAD_INPUT for an empty mask (nothing to export).
 */
export function storedMaskOutline(m: StoredMaskRaster, image: { width: number; height: number }, label = 'mask'): MaskOutline {
  const grid = decodeRle(m.rle.runs, m.rle.width, m.rle.height);
  const b = maskBounds(grid);
  if (!b) throw new VantageError('BAD_INPUT', `${label} is empty (no pixel inside): nothing to export`);
  const [x0, y0] = m.rle.origin;
  const sx = (m.bbox[2] - m.bbox[0]) / (b[2] - b[0]);
  const sy = (m.bbox[3] - m.bbox[1]) / (b[3] - b[1]);
  if (!(sx > 0 && sy > 0 && Number.isFinite(sx) && Number.isFinite(sy))) {
    throw new VantageError('BAD_INPUT', `${label} has an unusable placement (bbox ${m.bbox.join(',')}); it cannot be georeferenced`);
  }
  return outlineOnImage(grid, { x0, y0, sx, sy }, image, label);
}

/** The one outline measurement: the raster's cells placed on the image, cells outside the image dropped. */
function outlineOnImage(grid: BinaryMask, placement: GridPlacement, image: { width: number; height: number }, label: string): MaskOutline {
  const { x0, y0, sx, sy } = placement;
  let clipped = 0;
  let touches = false;
  let kept = 0;
  for (let j = 0; j < grid.height; j++) {
    for (let i = 0; i < grid.width; i++) {
      const k = j * grid.width + i;
      if (!grid.data[k]) continue;
      const cx = x0 + (i + 0.5) * sx;
      const cy = y0 + (j + 0.5) * sy;
      if (cx < 0 || cy < 0 || cx > image.width || cy > image.height) {
        grid.data[k] = 0;
        clipped++;
        continue;
      }
      kept++;
      if (x0 + i * sx <= 0 || y0 + j * sy <= 0 || x0 + (i + 1) * sx >= image.width || y0 + (j + 1) * sy >= image.height) touches = true;
    }
  }
  if (kept === 0) throw new VantageError('BAD_INPUT', `${label} lies entirely outside the image: nothing to export`);
  return { polygons: vectorizeMask(grid, placement), placement, touchesEdge: touches || clipped > 0, clippedCells: clipped };
}

/**
 * A model mask → what a stored mask holds: bbox, raster and area in image pixels as the model drew them, and the
 * outline clipped to the image with its edge flag (the one outline measurement). Null when nothing of it lies on
 * the image (nothing is stored).
 */
export function measureMask(m: MaskOut, image: { width: number; height: number }): MeasuredMask | null {
  const grid = { width: m.size, height: m.size, data: m.data };
  const bounds = maskBounds(grid);
  if (!bounds) return null;
  const [x0, y0, x1, y1] = m.rect;
  const placement = { x0, y0, sx: (x1 - x0) / m.size, sy: (y1 - y0) / m.size };
  const rle = { width: m.size, height: m.size, origin: [x0, y0] as [number, number], runs: encodeRle(grid) };
  const areaPx = maskArea(grid) * placement.sx * placement.sy;
  if (m.polygon) {
    // an answer box: its own outline (exact, turned by its angle), clipped to the image; the raster stays beside it
    const ring = clipRingToImage(m.polygon, image);
    if (!ring) return null;
    return {
      bbox: [x0 + bounds[0] * placement.sx, y0 + bounds[1] * placement.sy, x0 + bounds[2] * placement.sx, y0 + bounds[3] * placement.sy],
      rle,
      polygons: [[ring]],
      areaPx: Math.abs(ringAreaPx(closeRing(m.polygon))),
    };
  }
  let outline: MaskOutline;
  try {
    outline = outlineOnImage({ ...grid, data: grid.data.slice() }, placement, image, 'mask');
  } catch {
    return null; // entirely outside the image
  }
  return {
    bbox: [x0 + bounds[0] * placement.sx, y0 + bounds[1] * placement.sy, x0 + bounds[2] * placement.sx, y0 + bounds[3] * placement.sy],
    rle,
    polygons: outline.polygons,
    areaPx,
  };
}

type XY = [number, number];

function closeRing(r: XY[]): XY[] {
  const a = r[0]!, b = r[r.length - 1]!;
  return a[0] === b[0] && a[1] === b[1] ? r : [...r, a];
}

/** Shoelace area of a closed ring (signed). */
function ringAreaPx(r: XY[]): number {
  let s = 0;
  for (let i = 0; i < r.length - 1; i++) s += r[i]![0] * r[i + 1]![1] - r[i + 1]![0] * r[i]![1];
  return s / 2;
}

/**
 * A convex ring (an answer box) clipped to the image rectangle [0, W] × [0, H] (Sutherland–Hodgman): the closed ring,
 * or null when less than a sliver is left.
 */
export function clipRingToImage(ring: XY[], image: { width: number; height: number }): XY[] | null {
  let pts = closeRing(ring).slice(0, -1);
  const edges: [(p: XY) => number, (a: XY, b: XY) => XY][] = [];
  const cut = (axis: 0 | 1, v: number) => (a: XY, b: XY): XY => {
    const t = (v - a[axis]) / (b[axis] - a[axis]);
    return axis === 0 ? [v, a[1] + t * (b[1] - a[1])] : [a[0] + t * (b[0] - a[0]), v];
  };
  edges.push([(p) => p[0], cut(0, 0)], [(p) => image.width - p[0], cut(0, image.width)], [(p) => p[1], cut(1, 0)], [(p) => image.height - p[1], cut(1, image.height)]);
  for (const [inside, at] of edges) {
    const out: XY[] = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i]!, b = pts[(i + 1) % pts.length]!;
      const ia = inside(a) >= 0, ib = inside(b) >= 0;
      if (ia) out.push(a);
      if (ia !== ib) out.push(at(a, b));
    }
    pts = out;
    if (pts.length < 3) return null;
  }
  const closed = closeRing(pts);
  return Math.abs(ringAreaPx(closed)) > 1e-9 ? closed : null;
}

/**
 * A stored mask measured again from its raster and bbox (an imported case, or a row stored before outlines were
 * clipped to the image): its outline. An empty mask, or one wholly outside the image, keeps no outline (its
 * export says it is empty).
 */
export function remeasureStored(m: StoredMaskRaster, image: { width: number; height: number }): PixelPolygon[] {
  try {
    return storedMaskOutline(m, image).polygons;
  } catch {
    return [];
  }
}

/**
 * Every mask of a case measured again from its raster: a `.vantage` import (outlines in a file are never trusted)
 * and, once, the masks of a case database written before outlines were clipped to the image.
 */
export function remeasureCase(repo: CaseRepository, sessionId: string): number {
  const sizes = new Map(repo.listImages(sessionId).map((i) => [i.id, i.facts as { width: number; height: number }]));
  const masks = repo.listMaskRecords(sessionId, { withDeleted: true });
  repo.inTransaction(() => {
    for (const m of masks) repo.setMaskPolygons(m.id, remeasureStored(m, sizes.get(m.imageId) ?? { width: 0, height: 0 }));
  });
  return masks.length;
}

const MEASURED_KEY = 'masks.measuredVersion';
/** bumped when the outline measurement changes: stored outlines are then measured again once, at start-up */
const MEASURED_VERSION = '1';

/** Start-up: measures again, once, the masks of a case database stored by an earlier measurement version. */
export function remeasureOutdated(repo: CaseRepository, settings: { get(k: string): string | null; set(k: string, v: string): void }): number {
  if (settings.get(MEASURED_KEY) === MEASURED_VERSION) return 0;
  let n = 0;
  for (const id of repo.allSessionIds()) n += remeasureCase(repo, id);
  settings.set(MEASURED_KEY, MEASURED_VERSION);
  return n;
}

/** Stores a model mask on `imageId` under an answer turn, measured; null when it holds nothing on the image. */
export function storeModelMask(
  repo: CaseRepository,
  m: MaskOut,
  turn: { turnId: string; imageId: string; regionIds: string[] },
): Mask | null {
  const facts = repo.getImage(turn.imageId).facts as { width: number; height: number };
  const out = measureMask(m, facts);
  if (!out) return null; // the model found nothing: no empty outline is stored
  return repo.addMask({
    turnId: turn.turnId,
    imageId: turn.imageId,
    regionId: m.regionIndex !== null ? (turn.regionIds[m.regionIndex] ?? null) : null,
    phrase: m.phrase,
    score: m.score,
    ...out,
  });
}
