import type { ImageInfo } from '../../../main/contract/schemas.js';
import { imageProjection, type ImageProjection } from '../map/imageProjection.js';

const cache = new Map<string, ImageProjection>();

/** One projection per image id: images never change their georeferencing once opened. */
export function projectionOf(info: ImageInfo): ImageProjection {
  let p = cache.get(info.id);
  if (!p) {
    p = imageProjection(info);
    cache.set(info.id, p);
  }
  return p;
}
