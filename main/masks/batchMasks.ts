import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CaseRepository } from '../../db/repository.js';
import { BATCH_MAX_PROMPTS, type BatchEvent, type BatchItem, type BatchPrompt, type BatchResult } from '../contract/calls/chat.js';
import { VantageError } from '../contract/errors.js';
import { pointsBounds } from '../contract/geometry.js';
import { createPixelTransform, type PixelTransform, type XY } from '../contract/georef.js';
import type { ImageInfo, Mask, Region, Turn } from '../contract/index.js';
import type { ParsedInputOf } from '../contract/procedures.js';
import type { SessionsService } from '../sessions/sessionsService.js';
import { parseJsonText } from '../util/json.js';
import type { MaskOut, Rect } from '../inference/protocol.js';
import { regionToWgs84 } from '../analysis/regionWgs84.js';
import { classicalWindowOf, type InstantMaskService, type PromptRegion } from './instantMasks.js';
import { measureMask } from './measure.js';
import { CLASSICAL_MASK_NOTE } from '../contract/calls/chat.js';

/** a prompts file larger than this is refused before it is parsed */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** about this many progress events per batch (one every ⌈n/100⌉ prompts, and the last) */
const PROGRESS_STEPS = 100;

/** chat.batchMasks' input with the user's file reference resolved: a GeoJSON FeatureCollection on disk */
export type BatchInput = Omit<ParsedInputOf<'chat.batchMasks'>, 'file'> & { filePath?: string };

/** chat.batchMasks' input → the service's, the prompts file reference resolved to its path */
export function batchInput(i: ParsedInputOf<'chat.batchMasks'>, resolve: (ref: NonNullable<ParsedInputOf<'chat.batchMasks'>['file']>) => string): BatchInput {
  const { file, ...rest } = i;
  return { ...rest, ...(file !== undefined ? { filePath: resolve(file) } : {}) };
}

/** one prompt in image pixels, from feature `index` of the file (or of the prompts list) */
export interface PixelPrompt {
  index: number;
  label: string;
  geometry: PromptRegion;
  /** the source feature's properties, kept with the mask's provenance (region wgs84 record) */
  properties: Record<string, unknown> | null;
}

/**
 * Batch prompts: instant masks (InstantMaskService.instantRun, grounding features cached per image tile) for many points and
 * boxes, e.g. a survey's or a GIS layer's features over a large image. Prompts run sorted by tile, so each tile's
 * grounding features are computed once. Saving is all or nothing: the masks are kept in memory while the batch runs
 * and written in ONE transaction at the end (a question turn with one region per prompt run, an answer turn holding
 * the masks, phrase = the feature's id/name); a failure or a cancel leaves the case untouched.
 */
export class BatchMaskService {
  constructor(
    private readonly repo: CaseRepository,
    private readonly sessions: SessionsService,
    private readonly masks: InstantMaskService,
  ) {}

  async run(input: BatchInput, emit: (e: BatchEvent) => void, signal: AbortSignal): Promise<BatchResult> {
    const t0 = performance.now();
    const { info } = await this.sessions.imageOf(input.sessionId, input.imageId);
    const source = input.filePath !== undefined ? path.basename(input.filePath) : null;
    const read =
      input.filePath !== undefined
        ? promptsFromGeoJson(await readPromptsFile(input.filePath), info)
        : promptsFromPixels(input.prompts ?? [], info);
    const { prompts, total, skippedOutside } = read;
    const method = await this.masks.maskMethod();
    const classical = method === 'classical';

    // group by tile, tiles in order of first appearance: each tile's features are computed once and then reused
    const withTile = prompts.map((p) => {
      // classical masks: each prompt's own window (nothing is shared between prompts)
      const tile = classical ? classicalWindowOf(info, p.geometry, input.viewSpanPx).rect : this.masks.instantTileOf(info, p.geometry, input.viewSpanPx);
      return { p, tile, key: tile.join(',') };
    });
    const order = new Map<string, number>();
    for (const w of withTile) if (!order.has(w.key)) order.set(w.key, order.size);
    withTile.sort((a, b) => order.get(a.key)! - order.get(b.key)! || a.p.index - b.p.index);

    const runs: { p: PixelPrompt; tile: Rect; m: MaskOut; cached: boolean }[] = [];
    const tileCached = new Map<string, boolean>();
    let tileRgb: { key: string; rgb: Uint8Array } | null = null;
    const step = Math.max(1, Math.ceil(withTile.length / PROGRESS_STEPS));
    emit({ type: 'progress', done: 0, total: withTile.length });
    for (const [i, w] of withTile.entries()) {
      if (signal.aborted) throw new VantageError('CANCELLED', `batch cancelled after ${i} of ${withTile.length} prompts; nothing was stored`);
      let m: MaskOut;
      if (classical) ({ m } = await this.masks.classicalRun(info, w.p.geometry, input.viewSpanPx));
      else {
        const run = await this.masks.instantRun(info, w.p.geometry, w.tile, tileRgb?.key === w.key ? tileRgb.rgb : null);
        m = run.m;
        tileRgb = { key: w.key, rgb: run.rgb };
      }
      const cached = m.cachedFeatures === true;
      if (!tileCached.has(w.key)) tileCached.set(w.key, cached);
      runs.push({ p: w.p, tile: w.tile, m, cached });
      if ((i + 1) % step === 0 || i === withTile.length - 1) {
        emit({ type: 'progress', done: i + 1, total: withTile.length });
      }
    }
    if (signal.aborted) throw new VantageError('CANCELLED', 'batch cancelled; nothing was stored');

    // back to file order for the case and the report
    runs.sort((a, b) => a.p.index - b.p.index);
    const measured = runs.map((r) => ({ ...r, out: measureMask(r.m, info) }));
    let userTurn: Turn | null = null;
    let assistantTurn: Turn | null = null;
    let regions: Region[] = [];
    const masks: Mask[] = [];
    const maskIds: (string | null)[] = measured.map(() => null);
    const empty = measured.filter((r) => r.out === null).length;
    const ms = performance.now() - t0;
    if (input.save && measured.length > 0) {
      // a classical mask's answer names no pack: its provider is 'classical', like a change analysis's
      const model = classical ? { pack: null, provider: 'classical' } : this.masks.packProvenance();
      const question =
        `Batch prompts${source ? ` from ${source}` : ''}: ${total} prompt${total === 1 ? '' : 's'}` +
        (skippedOutside ? `, ${skippedOutside} outside the image (skipped)` : '');
      const answer =
        `${measured.length - empty} mask${measured.length - empty === 1 ? '' : 's'} from ${measured.length} prompt${measured.length === 1 ? '' : 's'}` +
        (empty ? ` (${empty} found nothing)` : '') +
        (classical ? ` · ${CLASSICAL_MASK_NOTE}` : '');
      this.repo.inTransaction(() => {
        const saved = this.repo.addQuestion({
          sessionId: input.sessionId,
          imageId: info.id,
          text: question,
          regions: measured.map((r) => ({
            geometry: r.p.geometry,
            wgs84: {
              ...(info.georeferenced ? regionToWgs84(r.p.geometry, info) : {}),
              batch: { source, index: r.p.index, label: r.p.label, properties: r.p.properties },
            },
          })),
        });
        userTurn = saved.userTurn;
        regions = saved.regions;
        measured.forEach((r, i) => {
          if (!r.out) return;
          const mask = this.repo.addMask({
            turnId: saved.assistantTurnId,
            imageId: info.id,
            regionId: saved.regions[i]!.id,
            phrase: r.p.label,
            score: r.m.score,
            ...r.out,
          });
          masks.push(mask);
          maskIds[i] = mask.id;
        });
        assistantTurn = this.repo.finishTurn(saved.assistantTurnId, { text: answer, status: 'complete', durationMs: ms, pack: model.pack, provider: model.provider });
      });
    }
    const items: BatchItem[] = measured.map((r, i) => ({
      index: r.p.index,
      label: r.p.label,
      geometry: r.p.geometry,
      tile: r.tile,
      cached: r.cached,
      score: r.m.score,
      areaPx: r.out?.areaPx ?? 0,
      bbox: r.out?.bbox ?? null,
      maskId: maskIds[i] ?? null,
    }));
    const tilesCached = [...tileCached.values()].filter(Boolean).length;
    const result: BatchResult = {
      method,
      total,
      skippedOutside,
      empty,
      items,
      saved: input.save && measured.length > 0,
      userTurn,
      assistantTurn,
      regions,
      masks,
      stats: {
        ms,
        msPerPrompt: measured.length ? ms / measured.length : 0,
        tiles: tileCached.size,
        tilesCached,
        tilesNew: tileCached.size - tilesCached,
        cachedPrompts: runs.filter((r) => r.cached).length,
      },
    };
    emit({ type: 'done', result });
    return result;
  }
}

async function readPromptsFile(filePath: string): Promise<unknown> {
  const name = path.basename(filePath);
  let size: number;
  try {
    size = (await stat(filePath)).size;
  } catch {
    throw new VantageError('NOT_FOUND', `prompts file not found: ${name}`);
  }
  if (size > MAX_FILE_BYTES) throw new VantageError('BAD_INPUT', `prompts file ${name} is ${(size / 2 ** 20).toFixed(0)} MB; at most ${MAX_FILE_BYTES / 2 ** 20} MB is read`);
  const text = await readFile(filePath, 'utf8');
  try {
    return parseJsonText(text);
  } catch (e) {
    throw new VantageError('BAD_INPUT', `prompts file ${name} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function tooMany(n: number): never {
  throw new VantageError('BAD_INPUT', `${n.toLocaleString('en-US')} prompts: a batch takes at most ${BATCH_MAX_PROMPTS.toLocaleString('en-US')}; split the file`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPos = (v: unknown): v is number[] => Array.isArray(v) && v.length >= 2 && v.every((n) => typeof n === 'number' && Number.isFinite(n));

/** the label a feature's mask gets: its `id`/`name`/`label` property, the Feature id, else "feature N" */
function featureLabel(f: Record<string, unknown>, index: number): string {
  const props = isObj(f.properties) ? f.properties : {};
  for (const v of [props.id, props.name, props.label, props.ID, props.NAME, f.id]) {
    if ((typeof v === 'string' && v.trim() !== '') || typeof v === 'number') return String(v).slice(0, 200);
  }
  return `feature ${index + 1}`;
}

/** EPSG code a GeoJSON `crs` member names ("EPSG:32618", "urn:ogc:def:crs:EPSG::32618"); 4326 for CRS84 */
function crsMemberEpsg(crs: unknown): number {
  const name = isObj(crs) && isObj(crs.properties) && typeof crs.properties.name === 'string' ? crs.properties.name : null;
  if (name === null) throw new VantageError('BAD_INPUT', 'the file\'s "crs" member names no CRS (expected {"type":"name","properties":{"name":"EPSG:…"}})');
  if (/CRS84$/i.test(name)) return 4326;
  const m = /EPSG:{1,2}(\d+)$/i.exec(name) ?? /EPSG\/\d*\/?(\d+)$/i.exec(name);
  if (!m) throw new VantageError('BAD_INPUT', `the file's crs "${name}" is not an EPSG code; write the file in WGS84 (RFC 7946) or the image's EPSG`);
  return Number(m[1]);
}

/**
 * A GeoJSON FeatureCollection → pixel prompts on `info`: Points → point prompts, Polygons/MultiPolygons → their bbox
 * as a box prompt. Coordinates are WGS84 lon/lat (RFC 7946) unless a `crs` member names the image's EPSG; both go
 * through the image's pixel transform (contract/georef). Features wholly outside the image are counted, not run;
 * a box reaching past the edge is clipped to the image.
 */
export function promptsFromGeoJson(doc: unknown, info: ImageInfo): { prompts: PixelPrompt[]; total: number; skippedOutside: number } {
  if (!isObj(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) {
    throw new VantageError('BAD_INPUT', `the prompts file is not a GeoJSON FeatureCollection (type: ${isObj(doc) ? JSON.stringify(doc.type) : typeof doc})`);
  }
  const features = doc.features as unknown[];
  if (features.length > BATCH_MAX_PROMPTS) tooMany(features.length);
  if (features.length === 0) throw new VantageError('BAD_INPUT', 'the prompts file has no features');
  let t: PixelTransform;
  try {
    t = createPixelTransform(info);
  } catch (e) {
    throw new VantageError('UNSUPPORTED', `${info.name} is not georeferenced, so map coordinates cannot be placed on it (${e instanceof Error ? e.message : String(e)}); give pixel prompts instead`);
  }
  let toPixel = (c: XY): XY => t.lngLatToPixel(c);
  if (doc.crs !== undefined && doc.crs !== null) {
    const epsg = crsMemberEpsg(doc.crs);
    if (epsg !== 4326) {
      if (epsg !== info.crs?.epsg) {
        throw new VantageError(
          'BAD_INPUT',
          `the file's crs is EPSG:${epsg} but ${info.name} is in ${info.crs?.epsg ? `EPSG:${info.crs.epsg}` : 'a CRS without an EPSG code'}; reproject the file to WGS84 (e.g. ogr2ogr -t_srs EPSG:4326) or to the image's CRS`,
        );
      }
      toPixel = (c) => t.crsToPixel(c);
    }
  }
  const prompts: PixelPrompt[] = [];
  let skippedOutside = 0;
  features.forEach((f, index) => {
    const where = `feature ${index}`;
    if (!isObj(f) || f.type !== 'Feature') throw new VantageError('BAD_INPUT', `${where} is not a GeoJSON Feature`);
    const g = f.geometry;
    if (!isObj(g)) throw new VantageError('BAD_INPUT', `${where} (${featureLabel(f, index)}) has no geometry`);
    const label = featureLabel(f, index);
    const properties = isObj(f.properties) ? f.properties : null;
    let geometry: PromptRegion | null;
    if (g.type === 'Point') {
      if (!isPos(g.coordinates)) throw new VantageError('BAD_INPUT', `${where} (${label}): a Point needs [x, y] coordinates`);
      const [x, y] = toPixel([g.coordinates[0]!, g.coordinates[1]!]);
      geometry = pointInside({ kind: 'point', x, y }, info);
    } else if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
      const polys = (g.type === 'Polygon' ? [g.coordinates] : Array.isArray(g.coordinates) ? g.coordinates : null) as unknown[] | null;
      const pts: XY[] = [];
      for (const poly of polys ?? []) {
        const outer = Array.isArray(poly) ? (poly[0] as unknown) : null;
        if (!Array.isArray(outer)) continue;
        for (const p of outer) {
          if (!isPos(p)) throw new VantageError('BAD_INPUT', `${where} (${label}): a ${g.type} position is not [x, y]`);
          pts.push(toPixel([p[0]!, p[1]!]));
        }
      }
      if (pts.length < 3) throw new VantageError('BAD_INPUT', `${where} (${label}): the ${g.type} has no usable ring (needs at least 3 positions)`);
      const [x0, y0, x1, y1] = pointsBounds(pts);
      geometry = boxInside({ kind: 'box', x0, y0, x1, y1 }, info);
    } else {
      throw new VantageError('BAD_INPUT', `${where} (${label}): ${String(g.type)} geometries are not prompts; use Points or Polygons`);
    }
    if (geometry && !Object.values(geometry).every((v) => typeof v === 'string' || Number.isFinite(v))) {
      throw new VantageError('BAD_INPUT', `${where} (${label}): its coordinates cannot be placed on the image (check the CRS)`);
    }
    if (geometry) prompts.push({ index, label, geometry, properties });
    else skippedOutside++;
  });
  return { prompts, total: features.length, skippedOutside };
}

/** pixel prompts (contract input) → the same checks as a file: limit, outside count, clipped boxes */
export function promptsFromPixels(list: BatchPrompt[], info: ImageInfo): { prompts: PixelPrompt[]; total: number; skippedOutside: number } {
  if (list.length > BATCH_MAX_PROMPTS) tooMany(list.length);
  if (list.length === 0) throw new VantageError('BAD_INPUT', 'no prompts given');
  const prompts: PixelPrompt[] = [];
  let skippedOutside = 0;
  list.forEach((p, index) => {
    const label = p.label ?? `prompt ${index + 1}`;
    const geometry = p.kind === 'point' ? pointInside({ kind: 'point', x: p.x, y: p.y }, info) : boxInside({ kind: 'box', x0: p.x0, y0: p.y0, x1: p.x1, y1: p.y1 }, info);
    if (geometry) prompts.push({ index, label, geometry, properties: null });
    else skippedOutside++;
  });
  return { prompts, total: list.length, skippedOutside };
}

function pointInside(p: Extract<PromptRegion, { kind: 'point' }>, info: ImageInfo): PromptRegion | null {
  if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return p; // reported by the caller
  return p.x >= 0 && p.y >= 0 && p.x <= info.width && p.y <= info.height ? p : null;
}

function boxInside(b: Extract<PromptRegion, { kind: 'box' }>, info: ImageInfo): PromptRegion | null {
  if (![b.x0, b.y0, b.x1, b.y1].every(Number.isFinite)) return b;
  const x0 = Math.max(0, Math.min(b.x0, b.x1));
  const y0 = Math.max(0, Math.min(b.y0, b.y1));
  const x1 = Math.min(info.width, Math.max(b.x0, b.x1));
  const y1 = Math.min(info.height, Math.max(b.y0, b.y1));
  return x1 > x0 && y1 > y0 ? { kind: 'box', x0, y0, x1, y1 } : null;
}
