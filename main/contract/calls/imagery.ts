import { z } from 'zod';
import { ImageDisplay, LayerSettings } from '../imageDisplay.js';
import { FileRef, Id, ImageInfo } from '../schemas.js';
import { call, resource } from './define.js';

export const ImageInfoWithDisplay = ImageInfo.extend({ display: ImageDisplay, layer: LayerSettings });

/** What is under one image pixel (the pixel inspector). */
export const PixelInfo = z.object({
  /** integer full-resolution pixel column/row */
  x: z.number().int(),
  y: z.number().int(),
  inside: z.boolean(),
  /** raw value per band (amplitude for complex SAR); null where the value is NaN (no JSON number) */
  values: z.array(z.number().nullable()),
  /** false when the pixel is nodata (all bands equal the nodata value), NaN, or masked out by the file */
  valid: z.boolean(),
  /** brightness temperature in kelvin when a Landsat MTL file beside the image gives the band's constants */
  brightnessK: z.number().nullable(),
  /** pixel centre in the image CRS (null without a geotransform) */
  crsXY: z.tuple([z.number(), z.number()]).nullable(),
  crsName: z.string().nullable(),
  lonLat: z.tuple([z.number(), z.number()]).nullable(),
  mgrs: z.string().nullable(),
});
export type PixelInfo = z.infer<typeof PixelInfo>;

export const imageryCalls = {
  'imagery.open': call(z.object({ sessionId: Id, file: FileRef }).strict(), ImageInfo),
  /** facts plus the display settings in force (stored per image, or the default) */
  'imagery.info': call(z.object({ imageId: Id }).strict(), ImageInfoWithDisplay),
  /** changes and persists how an image is drawn; returns the display now in force */
  'imagery.setDisplay': call(z.object({ imageId: Id, display: ImageDisplay }).strict(), z.object({ display: ImageDisplay })),
  /** opacity/visibility of one image's layer, persisted */
  'imagery.setLayer': call(z.object({ imageId: Id, layer: LayerSettings }).strict(), z.object({ layer: LayerSettings })),
  /** layer order of a case, bottom first (every image id of the case, each once) */
  'imagery.setOrder': call(z.object({ sessionId: Id, imageIds: z.array(Id) }).strict(), z.object({ ok: z.literal(true) })),
  'imagery.pixel': call(
    z.object({ imageId: Id, x: z.number().finite(), y: z.number().finite() }).strict(),
    PixelInfo,
  ),
  /** 256×256 PNG map tile in Web Mercator (or pixel space for non-georeferenced images), transparent outside */
  'imagery.tile': resource(
    z
      .object({
        imageId: Id,
        z: z.coerce.number().int().min(0).max(30),
        x: z.coerce.number().int().min(0),
        y: z.coerce.number().int(),
        /** display version (displayVersion()): only busts the browser cache; the backend renders the current display */
        v: z.string().max(32).optional(),
      })
      .strict(),
    'image/png',
  ),
} as const;
