import { z } from 'zod';
import { PixelPolygon, RegionGeometry } from '../geometry.js';
import { VantageError } from '../errors.js';
import { ChatEvent, Id } from '../schemas.js';
import { call, stream } from './define.js';

const xy = z.tuple([z.number().finite(), z.number().finite()]);

/** The same ground feature at pixel `a` of image A and pixel `b` of image B (pixels, corner origin). */
export const TiePoint = z.object({ a: xy, b: xy });
export type TiePoint = z.infer<typeof TiePoint>;

/** "xa,ya:xb,yb;…" (pixels of A, then of B) → tie points; the CLI's --tie and the compare panel's field. */
export function parseTiePoints(spec: string): TiePoint[] {
  return spec
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((pair) => {
      const sides = pair.split(':');
      const nums = sides.map((side) => side.split(',').map((v) => (v.trim() === '' ? NaN : Number(v.trim()))));
      if (sides.length !== 2 || nums.some((n) => n.length !== 2 || n.some((v) => !Number.isFinite(v)))) {
        throw new VantageError('BAD_INPUT', `tie points are "xa,ya:xb,yb" pairs separated by ";" (pixels of A then B), got "${pair}"`);
      }
      return { a: [nums[0]![0]!, nums[0]![1]!], b: [nums[1]![0]!, nums[1]![1]!] };
    });
}

export const ChangeImageRef = z.object({
  imageId: Id.nullable(),
  name: z.string(),
  /** acquisition date (YYYY-MM-DD) when the file name carries one, else null */
  date: z.string().nullable(),
});

export const ChangeStats = z.object({
  /** change-vector analysis (optical / multispectral) or log-ratio in dB (SAR) */
  method: z.enum(['cva', 'log-ratio']),
  /**
   * the detector: 'cva-matched' (default: B histogram-matched to A, 3×3-smoothed differences scaled by the robust
   * no-change noise, Otsu, opening/closing, 25 px minimum) or 'cva-otsu' (the original: per-band standardisation,
   * Otsu, area clean-up only)
   */
  detector: z.enum(['cva-matched', 'cva-otsu']),
  /** SAR only: whether each image's intensity was read as dB, linear power or amplitude, and why (dB is never logged again) */
  sarScale: z.object({ a: z.enum(['db', 'linear', 'amplitude']), b: z.enum(['db', 'linear', 'amplitude']), why: z.string() }).nullable(),
  bandsCompared: z.number().int().positive(),
  alignment: z.object({
    /** 'same-grid': neither image is georeferenced and both have the same width × height (pixel i of A is pixel i of B) */
    mode: z.enum(['georeference', 'tie-points', 'same-grid']),
    /** the common grid is image A's full-resolution grid, in A's CRS */
    crs: z.string().nullable(),
    /** RMS residual of the tie-point affine, B pixels (tie-point mode) */
    tieRmsPx: z.number().nullable(),
    /** B pixels per A pixel (linear): how much B is resampled */
    scaleBPerA: z.number(),
    resampling: z.literal('bilinear'),
    warnings: z.array(z.string()),
  }),
  overlap: z.object({
    /** A pixels with data on both dates */
    px: z.number().int().nonnegative(),
    m2: z.number().nullable(),
    pctOfA: z.number(),
    pctOfB: z.number(),
    /** [x0, y0, x1, y1) of A's grid holding the overlap */
    window: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  }),
  /** residual offset after alignment (B relative to A), by cross-correlation of textured patches; null when no patch correlates */
  offset: z
    .object({
      dxPx: z.number(),
      dyPx: z.number(),
      dxM: z.number().nullable(),
      dyM: z.number().nullable(),
      /** median distance of the patch measurements from the estimate: the estimate's uncertainty, px */
      spreadPx: z.number(),
      patches: z.number().int(),
    })
    .nullable(),
  threshold: z.number(),
  thresholdMethod: z.literal('otsu'),
  minAreaPx: z.number(),
  changedPx: z.number().int().nonnegative(),
  changedM2: z.number().nullable(),
  changedPctOfOverlap: z.number(),
  polygonCount: z.number().int().nonnegative(),
  /** A pixel size in metres along x and y (geodesic, at the overlap centre); null without georeference */
  pixelSizeM: z.tuple([z.number(), z.number()]).nullable(),
});
export type ChangeStats = z.infer<typeof ChangeStats>;

export const ChangePolygon = z.object({
  /** outline on image A's pixel grid (pixel edges), outer ring then holes */
  polygon: PixelPolygon,
  areaPx: z.number().nonnegative(),
  /** geodesic area (WGS84) */
  areaM2: z.number().nullable(),
  /** mean change magnitude over the polygon's pixels (the detector's units: σ of no-change noise for cva-matched) */
  meanMagnitude: z.number(),
});
export type ChangePolygon = z.infer<typeof ChangePolygon>;

export const ChangeResult = z.object({
  imageA: ChangeImageRef,
  imageB: ChangeImageRef,
  stats: ChangeStats,
  polygons: z.array(ChangePolygon),
  /** the stored mask (on image A) and the assistant turn recording the analysis; null outside a case */
  maskId: Id.nullable(),
  turnId: Id.nullable(),
  durationMs: z.number(),
});
export type ChangeResult = z.infer<typeof ChangeResult>;

export const changeCalls = {
  /** classical change detection between two images already opened in the case; stores the change mask on image A */
  'change.analyze': call(
    z
      .object({
        sessionId: Id,
        imageA: Id,
        imageB: Id,
        tiePoints: z.array(TiePoint).max(200).optional(),
        /** smallest change kept, m² (pixels when the pair is not georeferenced) */
        minArea: z.number().nonnegative().optional(),
        /** the detector (see ChangeStats.detector); default 'cva-matched' */
        detector: z.enum(['cva-matched', 'cva-otsu']).optional(),
      })
      .strict(),
    ChangeResult,
  ),
  /**
   * "What changed here?": the pack's bitemporal mode on A (earlier) and B (later), of the whole pair or of the
   * first region (drawn on A); streamed like chat.ask, stored as turns on image A naming both images, masks on A
   */
  'change.caption': stream(
    z
      .object({
        sessionId: Id,
        imageA: Id,
        imageB: Id,
        regions: z.array(RegionGeometry).max(8).default([]),
        text: z.string().max(8000).optional(),
        maxNewTokens: z.number().int().min(1).max(2048).default(64),
      })
      .strict(),
    ChatEvent,
  ),
} as const;
