import { open } from 'node:fs/promises';
import path from 'node:path';
import { createPixelTransform, type PixelTransform } from '../contract/georef.js';
import { VantageError } from '../contract/errors.js';
import { displayVersion, type ImageDisplay } from '../contract/imageDisplay.js';
import { AlphaMaskedSource } from './alphaMask.js';
import { defaultDisplayOf, resolvePlan, type RenderPlan } from './displayStretch.js';
import { GeoTiffSource } from './geotiffSource.js';
import type { LruCache } from './lruCache.js';
import { OverviewedSource } from './overviewCache.js';
import { PlainImageSource } from './plainImageSource.js';
import type { RasterSource, WindowData } from './rasterSource.js';
import type { SarScale } from './sarScale.js';
import { decideSource, sourceInputsOf, type SourceDecision, type SourceInputs, type SourceKind } from './sourceKind.js';

/** decoding a whole striped level is only worth it (and cacheable) up to this size */
const FULL_LEVEL_MAX_BYTES = 256 * 1024 * 1024;

let openSeq = 0;

/** Decoded pixels whose element (0,0) is level pixel (x0, y0); mask (same layout) 0 where the file says no data. */
export type WindowAt = WindowData & { x0: number; y0: number; mask: Uint8Array | null };

/** Picks the reader by the file's first bytes, not its extension. */
export async function openRasterSource(file: string): Promise<RasterSource> {
  const head = Buffer.alloc(4);
  let n: number;
  try {
    const fh = await open(file, 'r');
    try {
      n = (await fh.read(head, 0, 4, 0)).bytesRead;
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new VantageError('NOT_FOUND', `image file not found or unreadable: ${file} (${(e as Error).message})`);
  }
  if (n === 0) throw new VantageError('BAD_INPUT', `cannot open ${path.basename(file)}: the file is empty (0 bytes)`);
  const tiff = head.toString('latin1', 0, 2) === 'II' || head.toString('latin1', 0, 2) === 'MM';
  const jpeg = head[0] === 0xff && head[1] === 0xd8;
  const png = head[0] === 0x89 && head.toString('latin1', 1, 4) === 'PNG';
  if (tiff || (!jpeg && !png)) return GeoTiffSource.open(file);
  return PlainImageSource.open(file);
}

/**
 * One open image ready for display: its source, the pixel↔map transform (null when not georeferenced or the CRS
 * is not usable by proj4), the display stretch (computed on first use) and cached full-level decodes.
 */
export class OpenImage {
  readonly transform: PixelTransform | null;
  readonly transformError: string | null;
  private readonly plans = new Map<string, Promise<RenderPlan>>();
  private readonly key = `img${++openSeq}:`;
  private readonly decoding = new Map<string, Promise<WindowData>>();
  private inputs: Promise<SourceInputs> | null = null;

  constructor(
    readonly path: string,
    readonly source: RasterSource,
    private readonly cache: LruCache<WindowData>,
  ) {
    let t: PixelTransform | null = null;
    let err: string | null = null;
    const f = source.facts;
    if (f.geotransform || f.gcps) {
      try {
        t = createPixelTransform(f);
      } catch (e) {
        err = (e as Error).message;
      }
    }
    this.transform = t;
    this.transformError = err;
  }

  /** overviewDir: a built overview cache for this file (striped TIFFs), whose levels are added after level 0 */
  static async open(file: string, cache: LruCache<WindowData>, overviewDir: string | null = null): Promise<OpenImage> {
    const source = await openRasterSource(file);
    return new OpenImage(file, AlphaMaskedSource.wrap(overviewDir ? OverviewedSource.wrap(source, overviewDir) : source), cache);
  }

  get defaultDisplay(): ImageDisplay {
    return defaultDisplayOf(this.source);
  }

  /** What the image is and what its values mean (sourceKind.ts; its inputs are read once per open image). */
  async sourceDecision(chosen: SourceKind | null = null, chosenSarScale: SarScale | null = null): Promise<SourceDecision> {
    this.inputs ??= sourceInputsOf(this.path, this.source);
    return decideSource(await this.inputs, chosen, chosenSarScale);
  }

  /**
   * The display resolved to numbers (percentiles computed once per display and kept). `sarScale`: how SAR values
   * are stored as the imagery service decided (with the analyst's choices); absent → decided here the same way.
   */
  plan(display: ImageDisplay = this.defaultDisplay, sarScale?: SarScale): Promise<RenderPlan> {
    const k = `${displayVersion(display)}:${sarScale ?? ''}`;
    let p = this.plans.get(k);
    if (!p) {
      const scale: Promise<SarScale> =
        display.preset !== 'sar-db' ? Promise.resolve('linear')
        : sarScale !== undefined ? Promise.resolve(sarScale)
        : this.sourceDecision().then((d) => d.calibration?.sarScale ?? 'linear');
      p = scale.then((s) => resolvePlan(this.source, display, s)).catch((e: unknown) => {
        this.plans.delete(k);
        throw e;
      });
      if (this.plans.size >= 16) this.plans.clear(); // a user trying looks: keep the map small
      this.plans.set(k, p);
    }
    return p;
  }

  /**
   * Pixels covering a window of one level (possibly more: the result says where its first pixel lies). Striped files decode whole strips anyway, so the full level is decoded once
   * and kept in the shared LRU; tiled files are read window by window (geotiff.js fetches only the tiles needed).
   */
  async read(level: number, window: [number, number, number, number], bands: number[]): Promise<WindowAt> {
    const lv = this.source.levels[level]!;
    const f = this.source.facts;
    const bytes = lv.width * lv.height * bands.length * 8;
    const mask = await this.source.readMask(level, window);
    // striped files with internal masks are rare (GDAL writes masks for COGs): those take the windowed path
    if (f.striped && !mask && bytes <= FULL_LEVEL_MAX_BYTES) {
      const k = `${this.key}${level}:${bands.join(',')}`;
      let full = this.cache.get(k);
      if (!full) {
        // concurrent tile requests for the same level share one decode
        let p = this.decoding.get(k);
        if (!p) {
          p = this.source.readWindow(level, [0, 0, lv.width, lv.height], bands).finally(() => this.decoding.delete(k));
          this.decoding.set(k, p);
          const data = await p;
          this.cache.set(k, data, data.bands.reduce((s, b) => s + b.byteLength, 0));
        }
        full = await p;
      }
      return { ...full, x0: 0, y0: 0, mask: null };
    }
    return { ...(await this.source.readWindow(level, window, bands)), x0: window[0], y0: window[1], mask };
  }

  async close(): Promise<void> {
    this.cache.deletePrefix(this.key);
    await this.source.close();
  }
}
