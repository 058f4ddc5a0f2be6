import { z } from 'zod';

/** Image pixel coordinates: x to the right, y down, (0,0) is the top-left corner of the first pixel. */
const coord = z.number().finite();
const xy = z.tuple([coord, coord]);

export const PointRegion = z.object({ kind: z.literal('point'), x: coord, y: coord });
export const BoxRegion = z.object({ kind: z.literal('box'), x0: coord, y0: coord, x1: coord, y1: coord });
export const CircleRegion = z.object({ kind: z.literal('circle'), cx: coord, cy: coord, r: z.number().positive() });
export const ScribbleRegion = z.object({
  kind: z.literal('scribble'),
  points: z.array(xy).min(2).max(10_000),
  width: z.number().positive().default(8),
});
export const PolygonRegion = z.object({ kind: z.literal('polygon'), points: z.array(xy).min(3).max(10_000) });

export const RegionGeometry = z.discriminatedUnion('kind', [
  PointRegion,
  BoxRegion,
  CircleRegion,
  ScribbleRegion,
  PolygonRegion,
]);
export type RegionGeometry = z.infer<typeof RegionGeometry>;
export type RegionKind = RegionGeometry['kind'];

/** Rings in image pixel coordinates; the first ring is the outer boundary, the rest are holes. */
export const PixelPolygon = z.array(z.array(xy));
export type PixelPolygon = z.infer<typeof PixelPolygon>;
