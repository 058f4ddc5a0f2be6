import { z } from 'zod';
import { FileRef, Id, ImageInfo } from '../schemas.js';
import { call, resource } from './define.js';

export const imageryCalls = {
  'imagery.open': call(z.object({ sessionId: Id, file: FileRef }).strict(), ImageInfo),
  'imagery.info': call(z.object({ imageId: Id }).strict(), ImageInfo),
  /** 256×256 PNG map tile in Web Mercator (or pixel space for non-georeferenced images), transparent outside */
  'imagery.tile': resource(
    z
      .object({
        imageId: Id,
        z: z.coerce.number().int().min(0).max(30),
        x: z.coerce.number().int().min(0),
        y: z.coerce.number().int(),
      })
      .strict(),
    'image/png',
  ),
} as const;
