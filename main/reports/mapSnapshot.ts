import sharp from 'sharp';
import type { ReportExtent } from '../contract/calls/reports.js';
import { VantageError } from '../contract/errors.js';
import { pointsBounds, type RegionGeometry } from '../contract/geometry.js';
import { createPixelTransform, type XY } from '../contract/georef.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import type { CaseObject, ImageFactsRow } from './caseObjects.js';
import type { RegionRecord } from '../../db/repository.js';

export const REGION_COLOUR = '#ffffff';

export type Rect = [number, number, number, number];

export interface Snapshot {
  jpeg: Buffer;
  /** image pixels shown: [x0, y0, x1, y1] */
  rect: Rect;
  width: number;
  height: number;
  /** false when the image file could not be read: the overlay is drawn on grey */
  imageRead: boolean;
}

/** The case extent on one image: masks and regions with a margin, at least 64 px, clamped to the image. */
export function caseExtent(image: { width: number; height: number }, objects: CaseObject[], regions: RegionRecord[]): Rect {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const add = (a: number, b: number, c: number, d: number) => {
    x0 = Math.min(x0, a); y0 = Math.min(y0, b); x1 = Math.max(x1, c); y1 = Math.max(y1, d);
  };
  for (const o of objects) add(...o.mask.bbox);
  for (const r of regions) add(...regionBounds(r.geometry));
  if (!Number.isFinite(x0)) return [0, 0, image.width, image.height];
  const pad = Math.max(32, 0.15 * Math.max(x1 - x0, y1 - y0));
  x0 -= pad; y0 -= pad; x1 += pad; y1 += pad;
  // square-ish frames read better than slivers: widen the short side up to half the long one
  const w = x1 - x0, h = y1 - y0;
  if (w < h / 2) { x0 -= (h / 2 - w) / 2; x1 += (h / 2 - w) / 2; }
  if (h < w / 2) { y0 -= (w / 2 - h) / 2; y1 += (w / 2 - h) / 2; }
  return [Math.max(0, x0), Math.max(0, y0), Math.min(image.width, x1), Math.min(image.height, y1)];
}

/** Points along the edges of a rectangle (corners included): projected rectangles curve. */
function edgePoints([x0, y0, x1, y1]: Rect, n = 16): XY[] {
  const pts: XY[] = [];
  for (let i = 0; i <= n; i++) {
    const fx = x0 + ((x1 - x0) * i) / n;
    const fy = y0 + ((y1 - y0) * i) / n;
    pts.push([fx, y0], [fx, y1], [x0, fy], [x1, fy]);
  }
  return pts;
}

function boundsOf(pts: XY[]): Rect {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of pts) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return [x0, y0, x1, y1];
}

/**
 * The image-pixel rectangle a chosen extent covers on `image`: a WGS84 box goes through the image's own model
 * (its edges sampled, so a rotated or projected grid gets the whole box), then is clamped to the image.
 */
export function extentRect(image: ImageFactsRow, extent: ReportExtent, caseRect: () => Rect): Rect {
  const { width, height, name } = image.info;
  let r: Rect;
  if (extent.kind === 'case') return caseRect();
  if (extent.kind === 'pixels') r = extent.rect;
  else {
    if (!image.info.georeferenced) {
      throw new VantageError('BAD_INPUT', `${name} has no georeferencing, so a lon/lat extent cannot be placed on it: use the current view in pixels or the whole case`);
    }
    const t = createPixelTransform(image.info);
    const [w, s, e, n] = extent.bbox;
    r = boundsOf(edgePoints([w, s, e, n]).map((p) => t.lngLatToPixel(p)));
  }
  const c: Rect = [Math.max(0, r[0]), Math.max(0, r[1]), Math.min(width, r[2]), Math.min(height, r[3])];
  if (!(c[2] - c[0] >= 1 && c[3] - c[1] >= 1)) {
    const what = extent.kind === 'wgs84' ? `lon/lat box ${extent.bbox.join(', ')}` : `pixel rectangle ${extent.rect.map((v) => Math.round(v)).join(', ')}`;
    throw new VantageError('BAD_INPUT', `the chosen extent (${what}) does not cover ${name} (${width} × ${height} px): pan the map onto the image or choose "whole case"`);
  }
  return c;
}

/**
 * The rectangle of `other` showing the same ground as `rect` of `image` (through both georeferencings; by the images'
 * size ratio when either has none, which is approximate), not clamped: parts outside `other` are drawn grey.
 */
export function matchingRect(image: ImageFactsRow, rect: Rect, other: ImageFactsRow): { rect: Rect; exact: boolean } {
  try {
    if (image.info.georeferenced && other.info.georeferenced) {
      const ta = createPixelTransform(image.info);
      const tb = createPixelTransform(other.info);
      const r = boundsOf(edgePoints(rect).map((p) => tb.lngLatToPixel(ta.pixelToLngLat(p))));
      if (r.every(Number.isFinite) && r[2] > r[0] && r[3] > r[1]) return { rect: r, exact: true };
    }
  } catch {
    // fall through to the size ratio
  }
  const kx = other.info.width / image.info.width;
  const ky = other.info.height / image.info.height;
  return { rect: [rect[0] * kx, rect[1] * ky, rect[2] * kx, rect[3] * ky], exact: false };
}

/** RGB of `rect` (which may reach past the image) at width × height: the part inside is read, the rest is grey. */
async function readCanvas(imagery: ImageryPort, image: ImageFactsRow, rect: Rect, width: number, height: number): Promise<Uint8Array> {
  const [x0, y0, x1, y1] = rect;
  const c: Rect = [Math.max(0, x0), Math.max(0, y0), Math.min(image.info.width, x1), Math.min(image.info.height, y1)];
  const out = new Uint8Array(width * height * 3).fill(128);
  const ox0 = Math.round(((c[0] - x0) / (x1 - x0)) * width);
  const oy0 = Math.round(((c[1] - y0) / (y1 - y0)) * height);
  const ow = Math.min(width - ox0, Math.round(((c[2] - c[0]) / (x1 - x0)) * width));
  const oh = Math.min(height - oy0, Math.round(((c[3] - c[1]) / (y1 - y0)) * height));
  if (ow < 1 || oh < 1) return out;
  await imagery.register(image.id, image.path);
  const part = await imagery.readRgb(image.id, c, ow, oh);
  for (let j = 0; j < oh; j++) out.set(part.subarray(j * ow * 3, (j + 1) * ow * 3), ((oy0 + j) * width + ox0) * 3);
  return out;
}

export interface SnapshotOptions {
  maxSide?: number;
  /** pixels come from this image's rectangle (the same ground as `rect`), overlays stay in `image`'s pixels */
  source?: { image: ImageFactsRow; rect: Rect };
  /** outlines only (the "after" side of a change shows what lies under the polygons) */
  outline?: boolean;
}

export function regionBounds(g: RegionGeometry): Rect {
  switch (g.kind) {
    case 'point': return [g.x, g.y, g.x, g.y];
    case 'box': return [Math.min(g.x0, g.x1), Math.min(g.y0, g.y1), Math.max(g.x0, g.x1), Math.max(g.y0, g.y1)];
    case 'circle': return [g.cx - g.r, g.cy - g.r, g.cx + g.r, g.cy + g.r];
    default: return pointsBounds(g.points);
  }
}

/** Image crop (display stretch) with masks filled and regions outlined, as JPEG, drawn server-side. */
export async function renderSnapshot(
  imagery: ImageryPort,
  image: ImageFactsRow,
  rect: Rect,
  objects: CaseObject[],
  regions: RegionRecord[],
  opts: SnapshotOptions = {},
): Promise<Snapshot> {
  const maxSide = opts.maxSide ?? 1100;
  const [x0, y0, x1, y1] = rect;
  const k = maxSide / Math.max(x1 - x0, y1 - y0);
  const width = Math.max(1, Math.round((x1 - x0) * k));
  const height = Math.max(1, Math.round((y1 - y0) * k));
  let rgb: Uint8Array;
  let imageRead = true;
  try {
    const src = opts.source ?? { image, rect };
    rgb = await readCanvas(imagery, src.image, src.rect, width, height);
  } catch {
    imageRead = false;
    rgb = new Uint8Array(width * height * 3).fill(128);
  }
  const sx = width / (x1 - x0);
  const sy = height / (y1 - y0);
  const pt = (x: number, y: number) => `${((x - x0) * sx).toFixed(2)},${((y - y0) * sy).toFixed(2)}`;
  const parts: string[] = [];
  for (const o of objects) {
    // the colour kept with the object: the same as on the map and in the legend
    const colour = o.colour;
    const polys = o.geometry?.pixel ?? o.mask.polygons;
    const d = polys.map((p) => p.map((r) => `M${r.map(([x, y]) => pt(x, y)).join('L')}Z`).join('')).join('');
    parts.push(`<path d="${d}" fill="${colour}" fill-opacity="${opts.outline ? 0 : 0.4}" fill-rule="evenodd" stroke="${colour}" stroke-width="2"/>`);
  }
  for (const r of regions) parts.push(regionSvg(r.geometry, pt, sx));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  const jpeg = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality: 88 }) // a photo: JPEG keeps the report around 300 KB where PNG makes it 1 MB
    .toBuffer();
  return { jpeg, rect, width, height, imageRead };
}

function regionSvg(g: RegionGeometry, pt: (x: number, y: number) => string, scale: number): string {
  const style = `fill="none" stroke="${REGION_COLOUR}" stroke-width="2" stroke-dasharray="6 4"`;
  switch (g.kind) {
    case 'point': {
      const [cx, cy] = pt(g.x, g.y).split(',');
      return `<circle cx="${cx}" cy="${cy}" r="5" ${style}/>`;
    }
    case 'box': return `<path d="M${pt(g.x0, g.y0)}L${pt(g.x1, g.y0)}L${pt(g.x1, g.y1)}L${pt(g.x0, g.y1)}Z" ${style}/>`;
    case 'circle': {
      const [cx, cy] = pt(g.cx, g.cy).split(',');
      return `<circle cx="${cx}" cy="${cy}" r="${(g.r * scale).toFixed(2)}" ${style}/>`;
    }
    case 'polygon': return `<path d="M${g.points.map(([x, y]) => pt(x, y)).join('L')}Z" ${style}/>`;
    case 'scribble': return `<path d="M${g.points.map(([x, y]) => pt(x, y)).join('L')}" ${style}/>`;
  }
}
