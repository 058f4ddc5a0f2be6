import type { PixelPolygon } from '../contract/geometry.js';
import { VantageError } from '../contract/errors.js';
import { decodeRle, maskBounds, vectorizeMask, type GridPlacement } from './maskVectorizer.js';

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
  const placement = { x0, y0, sx, sy };
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
