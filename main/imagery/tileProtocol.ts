import type { ErrorPayload } from '../contract/errors.js';
import type { ImageDisplay } from '../contract/imageDisplay.js';
import type { SarScale } from './sarScale.js';

/** Messages between ImageryService (main thread) and a tile worker. */
export type TileRequest =
  | { seq: number; op: 'tile'; id: string; path: string; overviews: string | null; display: ImageDisplay | null; sarScale: SarScale; z: number; x: number; y: number; pad?: number }
  | { seq: number; op: 'rgb'; id: string; path: string; overviews: string | null; rect: [number, number, number, number]; outW: number; outH: number }
  /** builds the overview cache of a striped file into dir; progress replies precede the final one */
  | { seq: number; op: 'overviews'; path: string; dir: string }
  | { seq: number; op: 'release'; id: string };

export type TileReply =
  | { seq: number; progress: number }
  | { seq: number; ok: true; data: Uint8Array | null }
  | { seq: number; ok: false; error: ErrorPayload };
