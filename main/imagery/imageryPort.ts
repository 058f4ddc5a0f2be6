import type { ImageInfo } from '../contract/index.js';

/** Facts read from an image file: the contract's ImageInfo before the case gives it an id. */
export type ImageFacts = Omit<ImageInfo, 'id'>;

/** What the services need from the imagery engine. */
export interface ImageryPort {
  inspect(path: string): Promise<ImageFacts>;
  register(id: string, path: string): Promise<ImageFacts>;
  tile(id: string, z: number, x: number, y: number): Promise<Uint8Array>;
  /** RGB interleaved 8-bit, display-stretched, of an image-pixel rectangle resampled to outW × outH */
  readRgb(id: string, rect: [number, number, number, number], outW: number, outH: number): Promise<Uint8Array>;
  close(): Promise<void> | void;
}
