import { z } from 'zod';
import { BoxRegion, PixelPolygon, PointRegion, RegionGeometry } from '../geometry.js';
import { ChatEvent, FileRef, Id, Mask, Region, Turn } from '../schemas.js';
import { TaskMode } from '../taskModes.js';
import { call, stream } from './define.js';

/** how a point or box became a mask: the pack's grounding + pixel stages, or a classical segmentation of the image (no model) */
export const MaskMethod = z.enum(['model', 'classical']);
export type MaskMethod = z.infer<typeof MaskMethod>;
/** how a classical mask is named to the analyst (preview tooltip, stored answer, object list) */
export const CLASSICAL_MASK_NOTE = 'classical (no model)';

export const InstantMask = z.object({
  /** 'classical' without a pack that can draw masks (analysis/classicalSegment.ts); absent from older servers: 'model' */
  method: MaskMethod.default('model'),
  /** outline in image pixels; empty when the model found nothing at the prompt */
  polygons: z.array(PixelPolygon),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  score: z.number(),
  areaPx: z.number().nonnegative(),
  /** the view's grounding features were cached: only the pixel decoder ran */
  cached: z.boolean(),
  /** image rect (px) the mask was computed on: its tile, resized to one view */
  tile: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  ms: z.number(),
});
export type InstantMask = z.infer<typeof InstantMask>;

/** most prompts one batch takes (chat.batchMasks); a larger file is refused with a message saying so */
export const BATCH_MAX_PROMPTS = 5000;

/** a point or box in image pixels, with an optional label stored as the mask's phrase */
export const BatchPrompt = z.discriminatedUnion('kind', [
  PointRegion.extend({ label: z.string().max(200).optional() }),
  BoxRegion.extend({ label: z.string().max(200).optional() }),
]);
export type BatchPrompt = z.infer<typeof BatchPrompt>;

/** one prompt of a batch, as run: where it came from (feature index), its pixel geometry and what the mask measured */
export const BatchItem = z.object({
  /** index of the source feature in the file (or of the prompt in `prompts`) */
  index: z.number().int().nonnegative(),
  label: z.string(),
  geometry: z.discriminatedUnion('kind', [PointRegion, BoxRegion]),
  /** image tile whose grounding features were used */
  tile: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  cached: z.boolean(),
  score: z.number(),
  areaPx: z.number().nonnegative(),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  /** the stored mask; null when not saved or when the model found nothing at the prompt */
  maskId: Id.nullable(),
});
export type BatchItem = z.infer<typeof BatchItem>;

export const BatchResult = z.object({
  /** how the masks were made (InstantMask.method) */
  method: MaskMethod.default('model'),
  /** prompts read (features in the file, or prompts given) */
  total: z.number().int().nonnegative(),
  /** prompts lying wholly outside the image, not run */
  skippedOutside: z.number().int().nonnegative(),
  /** prompts run where the model found nothing (no mask stored) */
  empty: z.number().int().nonnegative(),
  items: z.array(BatchItem),
  saved: z.boolean(),
  /** the case turns holding the batch (question with one region per prompt run, answer with the masks); null unless saved */
  userTurn: Turn.nullable(),
  assistantTurn: Turn.nullable(),
  regions: z.array(Region),
  masks: z.array(Mask),
  stats: z.object({
    ms: z.number(),
    msPerPrompt: z.number(),
    /** distinct image tiles used; cached = their grounding features were already in the worker's cache */
    tiles: z.number().int(),
    tilesCached: z.number().int(),
    tilesNew: z.number().int(),
    /** prompts whose tile features came from the cache (only the pixel decoder ran) */
    cachedPrompts: z.number().int(),
  }),
});
export type BatchResult = z.infer<typeof BatchResult>;

export const BatchEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), done: z.number().int(), total: z.number().int() }),
  z.object({ type: z.literal('done'), result: BatchResult }),
]);
export type BatchEvent = z.infer<typeof BatchEvent>;

export const chatCalls = {
  'chat.ask': stream(
    z
      .object({
        sessionId: Id,
        imageId: Id,
        /** may be empty for presets that are a full question on their own (image-caption, scene, …) */
        text: z.string().max(8000),
        regions: z.array(RegionGeometry).max(8),
        mode: TaskMode.default('chat'),
        maxNewTokens: z.number().int().min(1).max(2048).default(64),
        /** 0 = greedy */
        temperature: z.number().min(0).max(5).default(0),
        topP: z.number().gt(0).max(1).default(1),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
    ChatEvent,
  ),
  /** a mask preview from a point or box alone (grounding + pixel stages), shown while the LLM thinks */
  'chat.instantMask': call(
    z
      .object({
        sessionId: Id,
        imageId: Id,
        region: z.discriminatedUnion('kind', [PointRegion, BoxRegion]),
        /** the visible map's shorter side in image pixels: sizes the tile to what the analyst sees (absent: 4 views) */
        viewSpanPx: z.number().positive().finite().optional(),
      })
      .strict(),
    InstantMask,
  ),
  /**
   * Instant masks for many points/boxes at once: from a GeoJSON file (Points; Polygons/MultiPolygons as their bbox;
   * WGS84 or the image's EPSG in a `crs` member) or from pixel prompts. Streams progress; cancelling stores nothing.
   */
  'chat.batchMasks': stream(
    z
      .object({
        sessionId: Id,
        imageId: Id,
        file: FileRef.optional(),
        /** more than BATCH_MAX_PROMPTS is refused by the service with a message (not a bare schema error) */
        prompts: z.array(BatchPrompt).max(100_000).optional(),
        /** store the masks in the case (one transaction at the end); false = measure only */
        save: z.boolean().default(true),
        /** as chat.instantMask's: the tile (or classical window) a preview used, so "Keep" stores what was shown */
        viewSpanPx: z.number().positive().finite().optional(),
      })
      .strict()
      .refine((i) => (i.file === undefined) !== (i.prompts === undefined), { message: 'give either a prompts file or prompts, not both or neither' }),
    BatchEvent,
  ),
} as const;
