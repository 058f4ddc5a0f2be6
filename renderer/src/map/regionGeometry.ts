import type { XY } from '../../../main/contract/georef.js';
import { pointsBounds, REGION_MAX_POINTS, simplifyPath, type RegionGeometry } from '../../../main/contract/geometry.js';
import type { ImageProjection, LatLngTuple } from './imageProjection.js';

/** What a drawing tool collected on the map, in map coordinates. */
export type Drawn =
  | { kind: 'point'; at: LatLngTuple }
  | { kind: 'box'; from: LatLngTuple; to: LatLngTuple }
  | { kind: 'circle'; centre: LatLngTuple; edge: LatLngTuple }
  | { kind: 'polygon'; points: LatLngTuple[] }
  | { kind: 'scribble'; points: LatLngTuple[]; widthPx?: number };

const MIN_SIZE_PX = 1;
/** Regions are rasterised on the model's views, coarser than image pixels: what was drawn is simplified to this. */
export const SIMPLIFY_TOLERANCE_PX = 0.5;
export const DEFAULT_SCRIBBLE_WIDTH = 8;

// "+ 0" turns -0 into 0
const round = (v: number) => Math.round(v * 100) / 100 + 0;
const rxy = (p: XY): XY => [round(p[0]), round(p[1])];

/**
 * Converts what the user drew into the contract's RegionGeometry in image pixel coordinates.
 * Returns null for shapes too small to mean anything (a click with the box tool, a one-vertex polygon).
 */
export function toRegionGeometry(d: Drawn, proj: ImageProjection): RegionGeometry | null {
  switch (d.kind) {
    case 'point': {
      const [x, y] = rxy(proj.toPixel(d.at));
      return { kind: 'point', x, y };
    }
    case 'box': {
      // all four map corners: under reprojection a map rectangle is not a pixel rectangle, take its pixel bbox
      const corners: LatLngTuple[] = [d.from, [d.from[0], d.to[1]], d.to, [d.to[0], d.from[1]]];
      const [x0, y0, x1, y1] = pointsBounds(corners.map((c) => proj.toPixel(c)));
      if (x1 - x0 < MIN_SIZE_PX || y1 - y0 < MIN_SIZE_PX) return null;
      return { kind: 'box', x0: round(x0), y0: round(y0), x1: round(x1), y1: round(y1) };
    }
    case 'circle': {
      const c = proj.toPixel(d.centre);
      const e = proj.toPixel(d.edge);
      const r = Math.hypot(e[0] - c[0], e[1] - c[1]);
      if (r < MIN_SIZE_PX) return null;
      return { kind: 'circle', cx: round(c[0]), cy: round(c[1]), r: round(r) };
    }
    case 'polygon': {
      const pts = dedupe(d.points.map((p) => rxy(proj.toPixel(p))));
      if (pts.length > 1 && samePoint(pts[0]!, pts[pts.length - 1]!)) pts.pop();
      if (pts.length < 3 || Math.abs(ringArea(pts)) < MIN_SIZE_PX) return null;
      const ring = simplified(pts, true);
      return ring.length < 3 ? null : { kind: 'polygon', points: ring };
    }
    case 'scribble': {
      const pts = dedupe(d.points.map((p) => rxy(proj.toPixel(p))));
      if (pts.length < 2) return null;
      return { kind: 'scribble', points: simplified(pts, false), width: d.widthPx ?? DEFAULT_SCRIBBLE_WIDTH };
    }
  }
}

/** How a stored region is drawn back on the map: exactly the pixel geometry that was sent, projected. */
export type RegionShape =
  | { kind: 'marker'; at: LatLngTuple }
  | { kind: 'polygon'; rings: LatLngTuple[][] }
  | { kind: 'polyline'; points: LatLngTuple[] };

export function regionShape(g: RegionGeometry, proj: ImageProjection): RegionShape {
  switch (g.kind) {
    case 'point':
      return { kind: 'marker', at: proj.toLatLng([g.x, g.y]) };
    case 'box':
      return { kind: 'polygon', rings: [densify([[g.x0, g.y0], [g.x1, g.y0], [g.x1, g.y1], [g.x0, g.y1]]).map(proj.toLatLng)] };
    case 'circle': {
      const ring: XY[] = [];
      for (let i = 0; i < 64; i++) {
        const a = (i / 64) * 2 * Math.PI;
        ring.push([g.cx + g.r * Math.cos(a), g.cy + g.r * Math.sin(a)]);
      }
      return { kind: 'polygon', rings: [ring.map(proj.toLatLng)] };
    }
    case 'polygon':
      return { kind: 'polygon', rings: [g.points.map((p) => proj.toLatLng(p))] };
    case 'scribble':
      return { kind: 'polyline', points: g.points.map((p) => proj.toLatLng(p)) };
  }
}

/** Anchor for a region's "<region k>" label, in image pixels. */
export function regionAnchor(g: RegionGeometry): XY {
  switch (g.kind) {
    case 'point':
      return [g.x, g.y];
    case 'box':
      return [g.x0, g.y0];
    case 'circle':
      return [g.cx, g.cy - g.r];
    case 'polygon':
    case 'scribble':
      return g.points.reduce((best, p) => (p[1] < best[1] ? p : best), g.points[0]!);
  }
}

export function maskRings(polygons: XY[][][], proj: ImageProjection): LatLngTuple[][][] {
  return polygons.map((rings) => rings.map((ring) => ring.map((p) => proj.toLatLng(p))));
}

function samePoint(a: XY, b: XY): boolean {
  return Math.abs(a[0] - b[0]) < 0.5 && Math.abs(a[1] - b[1]) < 0.5;
}

function dedupe(pts: XY[]): XY[] {
  const out: XY[] = [];
  for (const p of pts) if (!out.length || !samePoint(out[out.length - 1]!, p)) out.push(p);
  return out;
}

/** simplified to half a pixel (a coarser tolerance only if that still leaves more vertices than the contract takes) */
function simplified(pts: XY[], closed: boolean): XY[] {
  let out = simplifyPath(pts, SIMPLIFY_TOLERANCE_PX, closed);
  for (let tol = SIMPLIFY_TOLERANCE_PX * 2; out.length > REGION_MAX_POINTS; tol *= 2) out = simplifyPath(out, tol, closed);
  return out;
}

function ringArea(pts: XY[]): number {
  let a = 0;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!, q = pts[(i + 1) % pts.length]!;
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a / 2;
}

function densify(ring: XY[], per = 8): XY[] {
  const out: XY[] = [];
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i]!, q = ring[(i + 1) % ring.length]!;
    for (let k = 0; k < per; k++) out.push([p[0] + ((q[0] - p[0]) * k) / per, p[1] + ((q[1] - p[1]) * k) / per]);
  }
  return out;
}
