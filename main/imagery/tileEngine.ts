import { VantageError } from '../contract/errors.js';
import type { ImageDisplay } from '../contract/imageDisplay.js';
import { LruCache } from './lruCache.js';
import { OpenImage, openRasterSource } from './openImage.js';
import { buildOverviews } from './overviewCache.js';
import { sampleRgba } from './pixelSampler.js';
import type { WindowData } from './rasterSource.js';
import type { SarScale } from './sarScale.js';
import { renderTile } from './tileRenderer.js';

/**
 * The CPU-heavy half of the imagery engine: decoding, warping, stretching and PNG encoding. One instance runs in
 * each tile worker (or in-process when no worker bundle exists). Images open lazily by id + path, so a worker
 * needs no registration round trip; decoded levels stay in this engine's LRU.
 */
export class TileEngine {
  private readonly cache: LruCache<WindowData>;
  private readonly images = new Map<string, { path: string; overviews: string | null; image: Promise<OpenImage> }>();

  private closed = false;

  constructor(cacheBytes: number) {
    this.cache = new LruCache<WindowData>(cacheBytes);
  }

  /** overviews: the built overview cache dir (striped files), null until it is ready; a change reopens the image */
  private image(id: string, path: string, overviews: string | null): Promise<OpenImage> {
    const e = this.images.get(id);
    if (e && e.path === path && e.overviews === overviews) return e.image;
    if (e) void this.release(id);
    const image = OpenImage.open(path, this.cache, overviews);
    image.catch(() => {
      if (this.images.get(id)?.image === image) this.images.delete(id);
    });
    this.images.set(id, { path, overviews, image });
    return image;
  }

  async tile(id: string, path: string, overviews: string | null, display: ImageDisplay | null, z: number, x: number, y: number, sarScale?: SarScale, pad = 0): Promise<Uint8Array> {
    const img = await this.image(id, path, overviews);
    return renderTile(img, z, x, y, await img.plan(display ?? undefined, sarScale), pad);
  }

  /** RGB interleaved of a full-res rect resampled (nearest, best overview) to outW×outH, default display. */
  async rgb(
    id: string,
    path: string,
    overviews: string | null,
    rect: [number, number, number, number],
    outW: number,
    outH: number,
  ): Promise<Uint8Array> {
    const img = await this.image(id, path, overviews);
    const [x0, y0, x1, y1] = rect;
    if (!(x1 > x0 && y1 > y0) || !(outW >= 1 && outH >= 1) || !Number.isInteger(outW) || !Number.isInteger(outH)) {
      throw new VantageError('BAD_INPUT', `readRgb needs x1>x0, y1>y0 and integer outW, outH ≥ 1 (got ${rect.join(',')} → ${outW}×${outH})`);
    }
    const n = outW * outH;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const kx = (x1 - x0) / outW;
    const ky = (y1 - y0) / outH;
    for (let j = 0; j < outH; j++) {
      for (let i = 0; i < outW; i++) {
        xs[j * outW + i] = x0 + (i + 0.5) * kx;
        ys[j * outW + i] = y0 + (j + 0.5) * ky;
      }
    }
    const rgba = new Uint8Array(n * 4);
    await sampleRgba(img, xs, ys, Math.min(kx, ky), rgba, await img.plan());
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      rgb[i * 3] = rgba[i * 4]!;
      rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
      rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
    }
    return rgb;
  }

  /** Builds a striped file's overview cache (its own open of the file: the display LRU is not disturbed). */
  async buildOverviews(path: string, dir: string, onProgress: (fraction: number) => void): Promise<void> {
    const source = await openRasterSource(path);
    try {
      await buildOverviews(source, dir, { onProgress, cancelled: () => this.closed });
    } finally {
      await source.close();
    }
  }

  async release(id: string): Promise<void> {
    const e = this.images.get(id);
    if (!e) return;
    this.images.delete(id);
    const img = await e.image.catch(() => null);
    if (img) await img.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.images.keys()]) await this.release(id);
  }
}
