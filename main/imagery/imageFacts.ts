import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { PixelTransform, XY } from '../contract/georef.js';
import type { ImageFacts } from './imageryPort.js';
import { LruCache } from './lruCache.js';
import { OpenImage } from './openImage.js';
import type { WindowData } from './rasterSource.js';
import { guessSource } from './sourceKind.js';

export { guessSource };

export type { ImageFacts };

const POINTS_PER_SIDE = 8;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Closed [lon, lat] ring along the image edge, POINTS_PER_SIDE per side starting at the top-left corner
 * (so ring[0], ring[8], ring[16], ring[24] are the UL, UR, LR, LL corners). Edge points that do not project
 * (a geostationary disk's corners are off the Earth) are dropped; when too few remain, the lon/lat box of the
 * points that do project over the whole image stands in.
 */
export function footprintRing(t: PixelTransform, width: number, height: number): XY[] | null {
  const edge: XY[] = [];
  const k = POINTS_PER_SIDE;
  for (let i = 0; i < k; i++) edge.push([(width * i) / k, 0]);
  for (let i = 0; i < k; i++) edge.push([width, (height * i) / k]);
  for (let i = 0; i < k; i++) edge.push([width - (width * i) / k, height]);
  for (let i = 0; i < k; i++) edge.push([0, height - (height * i) / k]);
  const ring: XY[] = [];
  for (const p of edge) {
    const ll = safeLngLat(t, p);
    if (ll) ring.push(ll);
  }
  if (ring.length >= 3 && ring.length === edge.length) {
    ring.push([ring[0]![0], ring[0]![1]]);
    return ring;
  }
  const n = 32;
  let w = Infinity, s = Infinity, e = -Infinity, nn = -Infinity;
  for (let j = 0; j <= n; j++) {
    for (let i = 0; i <= n; i++) {
      const ll = safeLngLat(t, [(width * i) / n, (height * j) / n]);
      if (!ll) continue;
      w = Math.min(w, ll[0]); e = Math.max(e, ll[0]); s = Math.min(s, ll[1]); nn = Math.max(nn, ll[1]);
    }
  }
  if (w === Infinity) return null;
  return [[w, nn], [e, nn], [e, s], [w, s], [w, nn]];
}

function safeLngLat(t: PixelTransform, p: XY): XY | null {
  try {
    const ll = t.pixelToLngLat(p);
    return Number.isFinite(ll[0]) && Number.isFinite(ll[1]) && Math.abs(ll[1]) <= 90 ? ll : null;
  } catch {
    return null;
  }
}

export function factsOf(img: OpenImage, sha256: string): ImageFacts {
  const f = img.source.facts;
  const footprint = img.transform ? footprintRing(img.transform, f.width, f.height) : null;
  return {
    name: path.basename(img.path),
    width: f.width,
    height: f.height,
    bandCount: f.bandCount,
    dtype: f.dtype,
    nodata: f.nodata,
    crs: f.crs,
    geotransform: f.geotransform,
    gcps: f.gcps,
    overviewCount: f.overviewCount,
    footprint,
    georeferenced: img.transform !== null,
    source: guessSource(img.path, f),
    sha256,
  };
}

/** Facts about an image file without keeping it open. */
export async function inspectImage(file: string): Promise<ImageFacts> {
  const img = await OpenImage.open(file, new LruCache<WindowData>(0));
  try {
    return factsOf(img, await sha256File(file));
  } finally {
    await img.close();
  }
}
