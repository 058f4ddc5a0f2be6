import { VantageError } from '../contract/errors.js';
import { factsOf, inspectImage, sha256File } from './imageFacts.js';
import type { ImageFacts, ImageryPort } from './imageryPort.js';
import { LruCache } from './lruCache.js';
import { OpenImage } from './openImage.js';
import { sampleRgba } from './pixelSampler.js';
import type { WindowData } from './rasterSource.js';
import { renderTile } from './tileRenderer.js';

const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

interface Registered {
  path: string;
  image: OpenImage;
  facts: ImageFacts;
}

/** Open images by id: facts, map tiles and RGB crops for the model's views. */
export class ImageryService implements ImageryPort {
  private readonly cache: LruCache<WindowData>;
  private readonly images = new Map<string, Promise<Registered>>();

  constructor(opts: { cacheBytes?: number } = {}) {
    this.cache = new LruCache<WindowData>(opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
  }

  inspect(path: string): Promise<ImageFacts> {
    return inspectImage(path);
  }

  /** Opens the image under this id; the same id and path again returns the open one. */
  async register(id: string, path: string): Promise<ImageFacts> {
    const existing = this.images.get(id);
    if (existing) {
      const r = await existing.catch(() => null);
      if (r && r.path === path) return r.facts;
      this.images.delete(id);
      if (r) await r.image.close();
    }
    const p = (async (): Promise<Registered> => {
      const image = await OpenImage.open(path, this.cache);
      try {
        return { path, image, facts: factsOf(image, await sha256File(path)) };
      } catch (e) {
        await image.close();
        throw e;
      }
    })();
    this.images.set(id, p);
    try {
      return (await p).facts;
    } catch (e) {
      if (this.images.get(id) === p) this.images.delete(id);
      throw e;
    }
  }

  private async get(id: string): Promise<Registered> {
    const p = this.images.get(id);
    if (!p) throw new VantageError('NOT_FOUND', `image ${id} is not open: register it first`);
    return p;
  }

  async tile(id: string, z: number, x: number, y: number): Promise<Uint8Array> {
    const r = await this.get(id);
    if (!Number.isInteger(z) || !Number.isInteger(x) || !Number.isInteger(y) || z < 0 || z > 30) {
      throw new VantageError('BAD_INPUT', `tile address ${z}/${x}/${y} is not a valid XYZ tile`);
    }
    return renderTile(r.image, z, x, y);
  }

  /**
   * RGB (interleaved, 8-bit, display stretch) of the image rect [x0,y0,x1,y1] in full-res pixels, resampled
   * (nearest, from the best overview) to outW×outH. Outside the image and nodata read as black.
   */
  async readRgb(id: string, rect: [number, number, number, number], outW: number, outH: number): Promise<Uint8Array> {
    const r = await this.get(id);
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
    await sampleRgba(r.image, xs, ys, Math.min(kx, ky), rgba);
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      rgb[i * 3] = rgba[i * 4]!;
      rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
      rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
    }
    return rgb;
  }

  async close(): Promise<void> {
    const all = [...this.images.values()];
    this.images.clear();
    for (const p of all) {
      const r = await p.catch(() => null);
      if (r) await r.image.close();
    }
  }
}
