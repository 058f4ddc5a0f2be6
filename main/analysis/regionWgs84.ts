import type { ImageInfo, RegionGeometry } from '../contract/index.js';
import { createPixelTransform } from '../contract/georef.js';

/** The region's vertices in lon/lat, for provenance and exports (the pixel geometry stays the source of truth). */
export function regionToWgs84(g: RegionGeometry, info: ImageInfo): { kind: RegionGeometry['kind']; coordinates: [number, number][]; radiusPx?: number } {
  const t = createPixelTransform(info);
  const pts: [number, number][] =
    g.kind === 'point'
      ? [[g.x, g.y]]
      : g.kind === 'box'
        ? [[g.x0, g.y0], [g.x1, g.y0], [g.x1, g.y1], [g.x0, g.y1]]
        : g.kind === 'circle'
          ? [[g.cx, g.cy]]
          : g.points;
  return { kind: g.kind, coordinates: pts.map((p) => t.pixelToLngLat(p)), ...(g.kind === 'circle' ? { radiusPx: g.r } : {}) };
}
