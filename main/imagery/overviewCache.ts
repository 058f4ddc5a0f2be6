import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { VantageError } from '../contract/errors.js';
import type { NumericArray, RasterLevel, RasterSource, SourceFacts, WindowData } from './rasterSource.js';
import { processAlive } from '../util/processAlive.js';
import { recycleBands } from './tiffBlocks.js';

/**
 * Overview cache for large striped (untiled) TIFFs, the equivalent of GDAL's external .ovr: a pyramid of 2×
 * downsampled levels kept under `<cacheDir>/<sha256 of the file>/`, one raw row-major file per level and band
 * (native sample type) plus manifest.json written last. Built by streaming row bands, so memory stays bounded
 * whatever the image size; the directory appears atomically (temp dir + rename) so a reader never sees half of it.
 */

const MANIFEST = 'manifest.json';
const FORMAT = 1;
/** level 0 rows are read in bands of about this many bytes (decoded, all bands) */
const CHUNK_BYTES = 32 * 1024 * 1024;
/** the pyramid stops once a level fits one 256-px tile */
const SMALLEST = 256;

/** Striped files this large (max side, px) and without internal overviews get an overview cache. */
export const OVERVIEW_MIN_SIDE = 4096;

const CTORS = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
} as const;
type CtorName = keyof typeof CTORS;

interface Manifest {
  format: number;
  width: number;
  height: number;
  bandCount: number;
  sampleType: CtorName;
  levels: { width: number; height: number }[];
}

/** Whether this source is worth an overview cache: striped, large, no overviews of its own. */
export function needsOverviews(facts: SourceFacts, minSide = OVERVIEW_MIN_SIDE): boolean {
  return facts.striped && facts.overviewCount === 0 && Math.max(facts.width, facts.height) >= minSide;
}

export function overviewDirFor(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, sha256);
}

function readManifest(dir: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    return m.format === FORMAT && m.sampleType in CTORS && Array.isArray(m.levels) ? m : null;
  } catch {
    return null;
  }
}

/** A complete cache for a source of these dimensions exists in dir. */
export function overviewsReady(dir: string, facts: SourceFacts): boolean {
  const m = readManifest(dir);
  return !!m && m.width === facts.width && m.height === facts.height && m.bandCount === facts.bandCount;
}

/** The whole overview cache is kept under this many bytes unless configured otherwise. */
export const OVERVIEW_CACHE_DEFAULT_BYTES = 8 * 1024 ** 3;

/** `VANTAGE_OVERVIEW_CACHE_MB`: the cap in MiB; null when unset. */
export function overviewCapFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env.VANTAGE_OVERVIEW_CACHE_MB;
  if (raw === undefined || raw.trim() === '') return null;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new VantageError('BAD_INPUT', `VANTAGE_OVERVIEW_CACHE_MB must be a number of megabytes (0 or more), got "${raw}"`);
  }
  return Math.floor(mb * 1024 * 1024);
}

/** Records a use of a cache entry: the folder's mtime is its last-used time (nothing inside changes after a build). */
export function touchOverviews(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // gone (evicted by another process): the next open rebuilds it
  }
}

/**
 * Another process (a second CLI command beside the app) may have an entry open: each process using an entry keeps a
 * marker file `.in-use-<host>-<pid>` in it while it does. Eviction skips entries with a live marker; markers of
 * dead processes on this host are stale and removed.
 */
const IN_USE_PREFIX = '.in-use-';
const markerName = () => `${IN_USE_PREFIX}${hostname().replace(/[^A-Za-z0-9.]/g, '_')}-${process.pid}`;

export function markOverviewsInUse(dir: string): void {
  try {
    writeFileSync(path.join(dir, markerName()), '');
  } catch {
    // the entry is gone: nothing to protect
  }
}

export function unmarkOverviewsInUse(dir: string): void {
  rmSync(path.join(dir, markerName()), { force: true });
}


/** Whether a process other than this one has the entry open (its markers of dead processes are removed). */
function openElsewhere(dir: string): boolean {
  const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  for (const n of names) {
    if (!n.startsWith(IN_USE_PREFIX)) continue;
    const m = /^(.*)-(\d+)$/.exec(n.slice(IN_USE_PREFIX.length));
    if (!m) continue;
    const pid = Number(m[2]);
    if (m[1] !== host) return true; // a process on another host (shared data folder): its pid cannot be checked here
    if (pid === process.pid) continue; // this process decides by what it has open (the inUse callback)
    if (processAlive(pid)) return true;
    rmSync(path.join(dir, n), { force: true });
  }
  return false;
}

export interface OverviewEntry {
  dir: string;
  sha256: string;
  bytes: number;
  lastUsed: Date;
}

/** an entry folder is named by the file's sha256; build temp dirs and evicted folders are named otherwise */
const ENTRY_NAME = /^[0-9a-f]{64}$/;
const EVICTED_PREFIX = '.evicted-';

/** The complete entries in cacheDir with their size on disk and last-used time. */
export async function listOverviewEntries(cacheDir: string): Promise<OverviewEntry[]> {
  const out: OverviewEntry[] = [];
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!ENTRY_NAME.test(name)) continue;
    const dir = path.join(cacheDir, name);
    try {
      const st = await stat(dir);
      if (!st.isDirectory()) continue;
      let bytes = 0;
      for (const f of await readdir(dir)) bytes += (await stat(path.join(dir, f))).size;
      out.push({ dir, sha256: name, bytes, lastUsed: st.mtime });
    } catch {
      // removed meanwhile (another process evicted it)
    }
  }
  return out;
}

/**
 * Keeps the cache under capBytes by removing whole entries, least recently used first, skipping those inUse says
 * are open or being built here and those another live process has marked as open. An entry is first renamed away (atomic: a reader sees all of it or none) and then
 * deleted. Returns what was evicted and the size left (over the cap only when the rest is in use).
 */
export async function evictOverviews(
  cacheDir: string,
  capBytes: number,
  inUse: (dir: string) => boolean,
): Promise<{ evicted: OverviewEntry[]; totalBytes: number }> {
  // folders left by an eviction cut short (the app was closed mid-delete)
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (name.startsWith(EVICTED_PREFIX)) await rm(path.join(cacheDir, name), { recursive: true, force: true }).catch(() => {});
  }
  const entries = (await listOverviewEntries(cacheDir)).sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
  let totalBytes = entries.reduce((s, e) => s + e.bytes, 0);
  const evicted: OverviewEntry[] = [];
  for (const e of entries) {
    if (totalBytes <= capBytes) break;
    if (inUse(e.dir) || openElsewhere(e.dir)) continue;
    const trash = path.join(cacheDir, `${EVICTED_PREFIX}${e.sha256}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      renameSync(e.dir, trash); // synchronous right after the inUse check: no open can slip in between
    } catch {
      if (!existsSync(e.dir)) totalBytes -= e.bytes; // already gone (another process evicted it)
      continue;
    }
    totalBytes -= e.bytes;
    evicted.push(e);
    await rm(trash, { recursive: true, force: true });
  }
  return { evicted, totalBytes };
}

function levelFile(dir: string, level: number, band: number): string {
  return path.join(dir, `L${level}_b${band}.raw`);
}

/**
 * 2×2 block of rows → one output row band. Averages the valid samples (not nodata, not NaN); a block with none
 * stays nodata. Paletted (categorical) images take the top-left sample: an average of class indices means nothing.
 */
function downsample(src: NumericArray, w: number, h: number, nodata: number | null, nearest: boolean): NumericArray {
  const ow = Math.ceil(w / 2);
  const oh = Math.ceil(h / 2);
  const Ctor = src.constructor as new (n: number) => NumericArray;
  const out = new Ctor(ow * oh);
  const fill = nodata ?? (src instanceof Float32Array || src instanceof Float64Array ? NaN : 0);
  const integer = !(src instanceof Float32Array || src instanceof Float64Array);
  for (let oy = 0; oy < oh; oy++) {
    const y0 = oy * 2;
    const y1 = Math.min(y0 + 1, h - 1);
    for (let ox = 0; ox < ow; ox++) {
      const x0 = ox * 2;
      const x1 = Math.min(x0 + 1, w - 1);
      if (nearest) {
        out[oy * ow + ox] = src[y0 * w + x0]!;
        continue;
      }
      let sum = 0;
      let n = 0;
      for (const v of [src[y0 * w + x0]!, src[y0 * w + x1]!, src[y1 * w + x0]!, src[y1 * w + x1]!]) {
        if (v !== v || v === nodata) continue;
        sum += v;
        n++;
      }
      out[oy * ow + ox] = n === 0 ? fill : integer ? Math.round(sum / n) : sum / n;
    }
  }
  return out;
}

export interface BuildOptions {
  /** called with 0…1 as rows are processed */
  onProgress?: (fraction: number) => void;
  /** checked between row bands: true stops the build (the temp dir is removed) */
  cancelled?: () => boolean;
}

/**
 * Builds the pyramid of `source` into `dir` (which must not exist yet; returns at once if a complete one does).
 * Level k+1 is made from level k's raw files, so only level 0 is decoded from the TIFF, once.
 */
export async function buildOverviews(source: RasterSource, dir: string, opts: BuildOptions = {}): Promise<void> {
  const f = source.facts;
  if (overviewsReady(dir, f)) return;
  const bands = Array.from({ length: f.bandCount }, (_, i) => i);
  const dims: { width: number; height: number }[] = [];
  let w = f.width;
  let h = f.height;
  while (Math.max(w, h) > SMALLEST) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
    dims.push({ width: w, height: h });
  }
  if (dims.length === 0) throw new VantageError('BAD_INPUT', `${path.basename(dir)}: the image is too small for overviews`);
  const totalRows = f.height + dims.slice(0, -1).reduce((s, d) => s + d.height, 0);
  let doneRows = 0;
  let lastReport = -1;
  const report = (): void => {
    const p = Math.min(1, doneRows / totalRows);
    if (p - lastReport >= 0.01 || p === 1) {
      lastReport = p;
      opts.onProgress?.(p);
    }
  };

  // a build cut short (app closed, worker stopped) leaves its temp dir: the backend runs once per data dir, so
  // any temp dir of this file found now is stale
  const parent = path.dirname(dir);
  const stale = `${path.basename(dir)}.tmp-`;
  if (existsSync(parent)) for (const e of readdirSync(parent)) if (e.startsWith(stale)) rmSync(path.join(parent, e), { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(tmp, { recursive: true });
  let sampleType: CtorName = 'Uint8Array';
  try {
    let readRows = (y0: number, y1: number): Promise<WindowData> => source.readWindow(0, [0, y0, f.width, y1], bands);
    let inW = f.width;
    let inH = f.height;
    for (let level = 0; level < dims.length; level++) {
      const out = dims[level]!;
      const fds = bands.map((b) => openSync(levelFile(tmp, level + 1, b), 'w'));
      try {
        // an even number of rows per band keeps 2×2 blocks whole; at least 2, bounded in bytes
        const rows = Math.max(2, Math.floor(CHUNK_BYTES / (inW * bands.length * 8) / 2) * 2);
        for (let y = 0; y < inH; y += rows) {
          if (opts.cancelled?.()) throw new VantageError('CANCELLED', 'the overview build was cancelled');
          const y1 = Math.min(inH, y + rows);
          const data = await readRows(y, y1);
          data.bands.forEach((src, b) => {
            if (level === 0) sampleType = src.constructor.name as CtorName;
            const small = downsample(src, inW, y1 - y, f.nodata, !!f.palette);
            writeSync(fds[b]!, new Uint8Array(small.buffer, small.byteOffset, small.byteLength));
          });
          recycleBands(data.bands); // the next rows reuse these buffers (no fresh pages to fault in)
          doneRows += y1 - y;
          report();
          // yield between bands so an in-process build leaves the event loop breathing
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        for (const fd of fds) closeSync(fd);
      }
      const reader = new RawLevelReader(tmp, level + 1, out.width, out.height, sampleType);
      readRows = (y0, y1) => reader.read([0, y0, out.width, y1], bands);
      inW = out.width;
      inH = out.height;
    }
    if (!(sampleType in CTORS)) throw new VantageError('INTERNAL', `overview build: unexpected sample type ${sampleType}`);
    const manifest: Manifest = { format: FORMAT, width: f.width, height: f.height, bandCount: f.bandCount, sampleType, levels: dims };
    writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(manifest));
    mkdirSync(path.dirname(dir), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another process finished first: theirs is as good as ours
      if (!overviewsReady(dir, f)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
    opts.onProgress?.(1);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Reads windows of one cached level, band by band; one positioned read per band covers the window's rows. */
class RawLevelReader {
  constructor(
    private readonly dir: string,
    private readonly level: number,
    readonly width: number,
    readonly height: number,
    private readonly sampleType: CtorName,
  ) {}

  async read(window: [number, number, number, number], bands: number[]): Promise<WindowData> {
    const [x0, y0, x1, y1] = window;
    const Ctor = CTORS[this.sampleType];
    const bpe = Ctor.BYTES_PER_ELEMENT;
    const ww = x1 - x0;
    const wh = y1 - y0;
    const out: NumericArray[] = [];
    for (const b of bands) {
      const rowsBuf = Buffer.alloc(this.width * wh * bpe);
      let fh: FileHandle | null = null;
      try {
        fh = await open(levelFile(this.dir, this.level, b), 'r');
        const { bytesRead } = await fh.read(rowsBuf, 0, rowsBuf.length, y0 * this.width * bpe);
        if (bytesRead < rowsBuf.length) throw new Error(`short read (${bytesRead} of ${rowsBuf.length} bytes)`);
      } catch (e) {
        throw new VantageError('INTERNAL', `the overview cache in ${this.dir} is damaged (${(e as Error).message}): delete that folder to rebuild it`);
      } finally {
        await fh?.close();
      }
      const rows = new Ctor(rowsBuf.buffer, rowsBuf.byteOffset, this.width * wh);
      if (x0 === 0 && x1 === this.width) {
        out.push(rows);
        continue;
      }
      const win = new Ctor(ww * wh);
      for (let y = 0; y < wh; y++) win.set(rows.subarray(y * this.width + x0, y * this.width + x1), y * ww);
      out.push(win);
    }
    return { width: ww, height: wh, bands: out };
  }
}

/** A striped source with its cached overview levels appended after level 0. */
export class OverviewedSource implements RasterSource {
  readonly facts: SourceFacts;
  readonly levels: RasterLevel[];
  private readonly readers: RawLevelReader[];

  private constructor(
    private readonly base: RasterSource,
    m: Manifest,
    dir: string,
  ) {
    this.facts = { ...base.facts, overviewCount: m.levels.length };
    this.readers = m.levels.map((d, i) => new RawLevelReader(dir, i + 1, d.width, d.height, m.sampleType));
    this.levels = [
      base.levels[0]!,
      ...m.levels.map((d) => ({ width: d.width, height: d.height, scaleX: m.width / d.width, scaleY: m.height / d.height })),
    ];
  }

  /** The base source with the cache in dir, or the base itself when dir holds no complete matching cache. */
  static wrap(base: RasterSource, dir: string): RasterSource {
    if (!existsSync(dir) || base.levels.length !== 1 || !overviewsReady(dir, base.facts)) return base;
    return new OverviewedSource(base, readManifest(dir)!, dir);
  }

  readWindow(level: number, window: [number, number, number, number], bands: number[]): Promise<WindowData> {
    return level === 0 ? this.base.readWindow(0, window, bands) : this.readers[level - 1]!.read(window, bands);
  }

  readMask(level: number, window: [number, number, number, number]): Promise<Uint8Array | null> {
    return level === 0 ? this.base.readMask(0, window) : Promise.resolve(null);
  }

  close(): Promise<void> {
    return this.base.close();
  }
}
