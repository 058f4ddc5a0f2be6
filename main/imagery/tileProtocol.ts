import type { ErrorPayload } from '../contract/errors.js';
import type { ImageDisplay } from '../contract/imageDisplay.js';

/** Messages between ImageryService (main thread) and a tile worker. */
export type TileRequest =
  | { seq: number; op: 'tile'; id: string; path: string; display: ImageDisplay | null; z: number; x: number; y: number }
  | { seq: number; op: 'rgb'; id: string; path: string; rect: [number, number, number, number]; outW: number; outH: number }
  | { seq: number; op: 'release'; id: string };

export type TileReply = { seq: number; ok: true; data: Uint8Array | null } | { seq: number; ok: false; error: ErrorPayload };
