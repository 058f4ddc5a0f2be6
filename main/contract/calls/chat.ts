import { z } from 'zod';
import { BoxRegion, PixelPolygon, PointRegion, RegionGeometry } from '../geometry.js';
import { ChatEvent, Id } from '../schemas.js';
import { TaskMode } from '../taskModes.js';
import { call, stream } from './define.js';

export const InstantMask = z.object({
  /** outline in image pixels; empty when the model found nothing at the prompt */
  polygons: z.array(PixelPolygon),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  score: z.number(),
  areaPx: z.number().nonnegative(),
  /** the view's grounding features were cached: only the pixel decoder ran */
  cached: z.boolean(),
  ms: z.number(),
});
export type InstantMask = z.infer<typeof InstantMask>;

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
    z.object({ sessionId: Id, imageId: Id, region: z.discriminatedUnion('kind', [PointRegion, BoxRegion]) }).strict(),
    InstantMask,
  ),
} as const;
