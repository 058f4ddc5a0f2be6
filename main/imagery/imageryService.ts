import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { OverviewBuild, PixelInfo } from '../contract/calls/imagery.js';
import { VantageError } from '../contract/errors.js';
import { DEFAULT_LAYER, displayVersion, ImageDisplay, LayerSettings } from '../contract/imageDisplay.js';
import { factsOf, inspectImage, sha256File } from './imageFacts.js';
import type { ImageFacts, ImageryPort } from './imageryPort.js';
import { LruCache } from './lruCache.js';
import { OpenImage } from './openImage.js';
import {
  evictOverviews,
  needsOverviews,
  OVERVIEW_CACHE_DEFAULT_BYTES,
  OVERVIEW_MIN_SIDE,
  overviewCapFromEnv,
  markOverviewsInUse,
  overviewDirFor,
  overviewsReady,
  touchOverviews,
  unmarkOverviewsInUse,
} from './overviewCache.js';
import { probePixel } from './pixelProbe.js';
import type { WindowData } from './rasterSource.js';
import { findThermalCalibration, type ThermalCalibration } from './thermalCalibration.js';
import { SarScaleSchema, SourceKind } from '../contract/calls/imagery.js';
import type { SarScale } from './sarScale.js';
import { sourceDefaultDisplay, type SourceDecision } from './sourceKind.js';
import { TileEngine } from './tileEngine.js';
import { TilePool } from './tilePool.js';

const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;
const RENDERED_CACHE_BYTES = 64 * 1024 * 1024;
/** tiled files route blocks of 4×4 tiles to one worker: neighbours share decoded blocks */
const ROUTE_SPAN = 4;

/** What is persisted per image: how it is drawn and how its layer sits. */
export interface StoredLook {
  display: ImageDisplay;
  layer: LayerSettings;
  /** the source kind the analyst chose for this image (absent: the decided one) */
  sourceKind?: SourceKind | null;
  /** how the analyst says this SAR image is stored (absent: decided from the file), apart from the kind */
  sarScale?: SarScale | null;
}

/** Where per-image looks live (the case database, images.display_json); absent → they last until close. */
export interface DisplayStore {
  load(imageId: string): unknown;
  save(imageId: string, look: StoredLook): void;
}

export interface ImageryOptions {
  /** decoded-block cache across all workers (or in-process) */
  cacheBytes?: number;
  /** bundled tile worker (dist/main/tileWorker.mjs); absent or missing on disk → tiles render in-process */
  workerUrl?: string | URL;
  poolSize?: number;
  displays?: DisplayStore;
  /** where overview caches of large striped TIFFs go (`<dataDir>/cache/overviews`); absent → none are built */
  overviewCacheDir?: string;
  /** striped files at least this large (max side, px) get an overview cache */
  overviewMinSide?: number;
  /**
   * cap on the whole overview cache; least recently used entries not open here are evicted after each build and at
   * start-up. Default: VANTAGE_OVERVIEW_CACHE_MB, else 8 GiB
   */
  overviewCacheMaxBytes?: number;
  /** where evictions are reported (default: stderr) */
  log?: (msg: string) => void;
}

type OverviewState = OverviewBuild & { dir: string | null; done: Promise<void> };

interface Registered {
  path: string;
  /** opened here for facts and single-pixel reads only; tiles decode in the engine */
  image: OpenImage;
  facts: ImageFacts;
  display: ImageDisplay;
  layer: LayerSettings;
  thermal: ThermalCalibration | null;
  /** the analyst's choice of kind (kept in the case) and the decision made with it */
  chosenKind: SourceKind | null;
  chosenSarScale: SarScale | null;
  decision: SourceDecision;
  overview: OverviewState;
}

/** Open images by id: facts, map tiles, display settings, pixel values and RGB crops for the model's views. */
export class ImageryService implements ImageryPort {
  private readonly probeCache = new LruCache<WindowData>(8 * 1024 * 1024);
  private readonly images = new Map<string, Promise<Registered>>();
  private readonly rendered = new LruCache<Uint8Array>(RENDERED_CACHE_BYTES);
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private readonly pool: TilePool | null;
  private readonly local: TileEngine | null;
  /** image id → its overview cache entry, from the start of its build (or open) until release: never evicted */
  private readonly overviewsInUse = new Map<string, string>();
  private readonly overviewCapBytes: number;
  private trimming: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ImageryOptions = {}) {
    this.overviewCapBytes = opts.overviewCacheMaxBytes ?? overviewCapFromEnv() ?? OVERVIEW_CACHE_DEFAULT_BYTES;
    const cacheBytes = opts.cacheBytes ?? DEFAULT_CACHE_BYTES;
    const url = opts.workerUrl;
    const file = url === undefined ? null : typeof url === 'string' ? url : fileURLToPath(url);
    if (file && existsSync(file)) {
      const size = Math.max(1, opts.poolSize ?? Math.min(4, availableParallelism()));
      this.pool = new TilePool(url!, size, Math.floor(cacheBytes / size));
      this.local = null;
    } else {
      this.pool = null;
      this.local = new TileEngine(cacheBytes);
    }
    if (opts.overviewCacheDir) void this.trimOverviewCache();
  }

  private log(msg: string): void {
    (this.opts.log ?? ((m: string) => console.error(`[vantage] ${m}`)))(msg);
  }

  /**
   * Brings the overview cache under its cap: whole entries go, least recently used first, never one that an image
   * open here uses or is building. Runs at start-up and after each build (one at a time); resolves to the evicted
   * entry folders and never rejects.
   */
  trimOverviewCache(): Promise<string[]> {
    const cacheDir = this.opts.overviewCacheDir;
    if (!cacheDir) return Promise.resolve([]);
    const cap = this.overviewCapBytes;
    const run = this.trimming.then(async () => {
      const { evicted, totalBytes } = await evictOverviews(cacheDir, cap, (dir) => this.usesOverviews(dir));
      if (evicted.length > 0) {
        const what = evicted.map((e) => `${e.sha256.slice(0, 12)}… (${mib(e.bytes)}, last used ${e.lastUsed.toISOString()})`).join(', ');
        this.log(`overview cache over its ${mib(cap)} cap: evicted ${evicted.length} least recently used entr${evicted.length === 1 ? 'y' : 'ies'}: ${what}; ${mib(totalBytes)} left`);
      }
      if (totalBytes > cap) this.log(`overview cache holds ${mib(totalBytes)}, over its ${mib(cap)} cap: the rest is in use by open images`);
      return evicted.map((e) => e.dir);
    });
    const safe = run.catch((e: unknown) => {
      this.log(`overview cache could not be trimmed (${(e as Error).message})`);
      return [] as string[];
    });
    this.trimming = safe;
    return safe;
  }

  /** 'workers' when tiles render off the main thread */
  get mode(): 'workers' | 'in-process' {
    return this.pool ? 'workers' : 'in-process';
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
      await this.release(id);
    }
    const p = (async (): Promise<Registered> => {
      const image = await OpenImage.open(path, this.probeCache);
      try {
        const facts = factsOf(image, await sha256File(path));
        // a stored look that no longer fits (edited DB, other file at the path) falls back to the default
        const stored = (this.opts.displays?.load(id) ?? null) as Partial<StoredLook> | null;
        const d = ImageDisplay.safeParse(stored?.display);
        const l = LayerSettings.safeParse(stored?.layer);
        const k = SourceKind.safeParse(stored?.sourceKind);
        const chosenKind = k.success ? k.data : null;
        const sc = SarScaleSchema.safeParse(stored?.sarScale);
        const chosenSarScale = sc.success ? sc.data : null;
        const decision = await image.sourceDecision(chosenKind, chosenSarScale);
        // no stored look: the source kind decides (SAR in dB, thermal, terrain); the model's views keep their own
        const display = d.success && !this.displayProblem(image, d.data) ? d.data : this.kindDisplay(image, decision);
        const layer = l.success ? l.data : DEFAULT_LAYER;
        const overview: OverviewState = { state: 'none', progress: 0, message: null, dir: null, done: Promise.resolve() };
        return { path, image, facts, display, layer, thermal: findThermalCalibration(path), chosenKind, chosenSarScale, decision, overview };
      } catch (e) {
        await image.close();
        throw e;
      }
    })();
    this.images.set(id, p);
    try {
      const r = await p;
      this.startOverviews(id, r);
      return r.facts;
    } catch (e) {
      if (this.images.get(id) === p) this.images.delete(id);
      throw e;
    }
  }

  /**
   * Large striped files decode whole strips for every window, so zoomed-out tiles would read the entire file:
   * like GDAL's .ovr, a pyramid is built once in the background (a tile worker, not this thread) and reused by
   * content hash on later opens. Tiles render from level 0 until it is ready.
   */
  private startOverviews(id: string, r: Registered): void {
    const cacheDir = this.opts.overviewCacheDir;
    if (!cacheDir || !needsOverviews(r.image.source.facts, this.opts.overviewMinSide ?? OVERVIEW_MIN_SIDE)) return;
    const dir = overviewDirFor(cacheDir, r.facts.sha256);
    const o = r.overview;
    // in use from here on (before the readiness check): a trim running meanwhile leaves it alone
    this.overviewsInUse.set(id, dir);
    if (overviewsReady(dir, r.image.source.facts)) {
      markOverviewsInUse(dir);
      touchOverviews(dir);
      Object.assign(o, { state: 'ready', progress: 1, dir });
      return;
    }
    o.state = 'building';
    const onProgress = (p: number): void => {
      o.progress = Math.max(o.progress, Math.min(1, p));
    };
    const job = this.pool
      ? this.pool.request(this.overviewRoute(id), { op: 'overviews', path: r.path, dir }, onProgress)
      : this.local!.buildOverviews(r.path, dir, onProgress);
    o.done = job.then(
      async () => {
        if (this.usesOverviews(dir)) markOverviewsInUse(dir);
        touchOverviews(dir);
        Object.assign(o, { state: 'ready', progress: 1, dir });
        await this.trimOverviewCache();
      },
      (e: unknown) => {
        const err = VantageError.from(e);
        Object.assign(o, { state: 'failed', message: `overviews could not be built (${err.message}); zoomed-out views stay slow` });
      },
    );
  }

  /** a routing key whose worker is not the one rendering this striped image's tiles (when there are two or more) */
  private overviewRoute(id: string): string {
    const size = this.pool!.size;
    const busy = TilePool.route(id, size);
    for (let i = 0; i < 64; i++) if (size === 1 || TilePool.route(`${id}/ovr${i}`, size) !== busy) return `${id}/ovr${i}`;
    return `${id}/ovr`;
  }

  /** State of the image's background overview build (the layer list shows it as a progress bar). */
  async overviewBuild(id: string): Promise<OverviewBuild> {
    const { state, progress, message } = (await this.get(id)).overview;
    return { state, progress, message };
  }

  /** Resolves when the image's overview build has finished (or failed); at once when there is none. */
  async overviewsSettled(id: string): Promise<OverviewBuild> {
    await (await this.get(id)).overview.done;
    return this.overviewBuild(id);
  }

  private async get(id: string): Promise<Registered> {
    const p = this.images.get(id);
    if (!p) throw new VantageError('NOT_FOUND', `image ${id} is not open: register it first`);
    return p;
  }

  private displayProblem(image: OpenImage, d: ImageDisplay): string | null {
    const f = image.source.facts;
    const bad = d.bands.find((b) => b >= f.bandCount);
    if (bad !== undefined) return `band ${bad + 1} does not exist: the image has ${f.bandCount} band(s)`;
    if (f.alphaBand !== null && f.alphaBand !== undefined && d.bands.includes(f.alphaBand)) return `band ${f.alphaBand + 1} is the alpha (transparency) band, not data`;
    if (d.colourMap === 'palette' && !f.palette) return 'this image has no colour palette: choose another colour map';
    return null;
  }

  /** What the image is and what its values mean: decided once when it opens (sourceKind.ts). */
  async sourceDecision(id: string): Promise<SourceDecision> {
    return (await this.get(id)).decision;
  }

  private kindDisplay(image: OpenImage, d: SourceDecision): ImageDisplay {
    const f = image.source.facts;
    return sourceDefaultDisplay(d, { bandCount: f.bandCount, dtype: f.dtype, hasPalette: f.palette !== null });
  }

  /**
   * The analyst's choice of source kind (null: back to the decided one), kept in the case with the look; the
   * calibration follows the kind and the display becomes that kind's default.
   */
  async setSourceKind(id: string, kind: SourceKind | null): Promise<{ sourceDecision: SourceDecision; display: ImageDisplay }> {
    const r = await this.get(id);
    const decision = await r.image.sourceDecision(kind, r.chosenSarScale);
    const display = this.kindDisplay(r.image, decision);
    Object.assign(r, { chosenKind: kind, decision, display });
    this.saveLook(id, r);
    return { sourceDecision: decision, display };
  }

  /**
   * The analyst's statement of how a SAR image is stored (dB, linear power, amplitude; null: as decided from the
   * file), kept in the case apart from the kind; the display in force stays (tiles re-render on the new scale).
   */
  async setSarScale(id: string, scale: SarScale | null): Promise<{ sourceDecision: SourceDecision; display: ImageDisplay }> {
    const r = await this.get(id);
    const decision = await r.image.sourceDecision(r.chosenKind, scale);
    Object.assign(r, { chosenSarScale: scale, decision });
    this.saveLook(id, r);
    return { sourceDecision: decision, display: r.display };
  }

  private saveLook(id: string, r: Registered): void {
    this.opts.displays?.save(id, { display: r.display, layer: r.layer, ...(r.chosenKind ? { sourceKind: r.chosenKind } : {}), ...(r.chosenSarScale ? { sarScale: r.chosenSarScale } : {}) });
  }

  async display(id: string): Promise<ImageDisplay> {
    return (await this.get(id)).display;
  }

  /** Validates against the image, stores (when a store was given) and puts the display in force for new tiles. */
  async setDisplay(id: string, display: ImageDisplay): Promise<ImageDisplay> {
    const r = await this.get(id);
    const problem = this.displayProblem(r.image, display);
    if (problem) throw new VantageError('BAD_INPUT', `cannot use this display for ${r.facts.name}: ${problem}`);
    r.display = display;
    this.saveLook(id, r);
    return display;
  }

  async layer(id: string): Promise<LayerSettings> {
    return (await this.get(id)).layer;
  }

  async setLayer(id: string, layer: LayerSettings): Promise<LayerSettings> {
    const r = await this.get(id);
    r.layer = layer;
    this.saveLook(id, r);
    return layer;
  }

  /** `pad`: extra rows/columns of the next tiles (0–2; the map asks for them so scaled tiles overlap without seams) */
  async tile(id: string, z: number, x: number, y: number, pad = 0): Promise<Uint8Array> {
    const r = await this.get(id);
    if (!Number.isInteger(z) || !Number.isInteger(x) || !Number.isInteger(y) || z < 0 || z > 30) {
      throw new VantageError('BAD_INPUT', `tile address ${z}/${x}/${y} is not a valid XYZ tile`);
    }
    const display = r.display;
    const sarScale: SarScale = r.decision.calibration?.sarScale ?? 'linear';
    const key = `${id}\u0000${displayVersion(display)}${sarScale === 'linear' ? '' : sarScale}\u0000${z}/${x}/${y}${pad ? `+${pad}` : ''}`;
    const hit = this.rendered.get(key);
    if (hit) return hit;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.renderTile(id, r, display, sarScale, z, x, y, pad).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
      const png = await p;
      this.rendered.set(key, png, png.byteLength + 64);
      return png;
    }
    return p;
  }

  private async renderTile(id: string, r: Registered, display: ImageDisplay, sarScale: SarScale, z: number, x: number, y: number, pad: number): Promise<Uint8Array> {
    const overviews = r.overview.state === 'ready' ? r.overview.dir : null;
    if (!this.pool) return this.local!.tile(id, r.path, overviews, display, z, x, y, sarScale, pad);
    // a striped level decodes whole: one worker per image keeps one copy of it
    const route = r.image.source.facts.striped ? id : `${id}/${z}/${Math.floor(x / ROUTE_SPAN)}/${Math.floor(y / ROUTE_SPAN)}`;
    const png = await this.pool.request(route, { op: 'tile', id, path: r.path, overviews, display, sarScale, z, x, y, pad });
    if (!png) throw new VantageError('INTERNAL', 'the tile worker returned no tile');
    return png;
  }

  /**
   * RGB (interleaved, 8-bit, default display stretch) of the image rect [x0,y0,x1,y1] in full-res pixels,
   * resampled (nearest, from the best overview) to outW×outH. Outside the image and nodata read as black.
   */
  async readRgb(id: string, rect: [number, number, number, number], outW: number, outH: number): Promise<Uint8Array> {
    const r = await this.get(id);
    const overviews = r.overview.state === 'ready' ? r.overview.dir : null;
    if (!this.pool) return this.local!.rgb(id, r.path, overviews, rect, outW, outH);
    const rgb = await this.pool.request(r.image.source.facts.striped ? id : `${id}/rgb`, { op: 'rgb', id, path: r.path, overviews, rect, outW, outH });
    if (!rgb) throw new VantageError('INTERNAL', 'the tile worker returned no pixels');
    return rgb;
  }

  /** Raw values and positions of one full-res pixel (the pixel inspector). */
  async pixel(id: string, x: number, y: number): Promise<PixelInfo> {
    const r = await this.get(id);
    return probePixel(r.image, x, y, r.thermal, r.decision);
  }

  private async release(id: string): Promise<void> {
    const p = this.images.get(id);
    this.images.delete(id);
    this.rendered.deletePrefix(`${id}\u0000`);
    if (this.pool) await this.pool.broadcast({ op: 'release', id });
    else await this.local!.release(id);
    const r = await p?.catch(() => null);
    if (r) await r.image.close();
    const ovr = this.overviewsInUse.get(id);
    this.overviewsInUse.delete(id);
    if (ovr && r?.overview.state === 'ready') {
      if (!this.usesOverviews(ovr)) unmarkOverviewsInUse(ovr);
      touchOverviews(ovr); // last used: when it was closed
    }
  }

  /** whether an image open here uses (or is building) this overview cache entry */
  private usesOverviews(dir: string): boolean {
    for (const d of this.overviewsInUse.values()) if (d === dir) return true;
    return false;
  }

  async close(): Promise<void> {
    for (const id of [...this.images.keys()]) await this.release(id);
    await this.trimming;
    await this.pool?.close();
    await this.local?.close();
  }
}

function mib(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  return bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
