import {
  createPixelTransform,
  simpleLatLngToPixel,
  simpleMaxZoom,
  simplePixelToLatLng,
  MERCATOR_HALF,
  TILE_SIZE,
  type XY,
} from '../../../main/contract/georef.js';
import type { ImageInfo } from '../../../main/contract/schemas.js';

export type LatLngTuple = [lat: number, lng: number];
/** 'geo': placed on Web Mercator by its georeferencing; 'pixel': shown in L.CRS.Simple pixel space */
export type Placement = 'geo' | 'pixel';

export interface ImageProjection {
  placement: Placement;
  toLatLng(p: XY): LatLngTuple;
  toPixel(ll: LatLngTuple): XY;
  /** [[south, west], [north, east]] of the whole image on the map */
  bounds: [LatLngTuple, LatLngTuple];
  /** deepest zoom with tiles at (about) the image's own resolution; Leaflet over-zooms past it */
  maxNativeZoom: number;
}

type ProjectableInfo = Pick<ImageInfo, 'width' | 'height' | 'geotransform' | 'crs' | 'georeferenced' | 'footprint'> & {
  gcps?: ImageInfo['gcps'];
};

const METRES_PER_DEGREE = 111_320;
export const MAX_MAP_ZOOM = 23;

/**
 * How one image sits on the map. Georeferenced images use the same pixel↔lon/lat transform as the services
 * (contract georef.ts); anything the transform refuses falls back to pixel space, so the image still opens.
 */
export function imageProjection(info: ProjectableInfo): ImageProjection {
  if (info.georeferenced) {
    try {
      return geoProjection(info);
    } catch {
      // fall through: no usable georeferencing in the browser, show it as a plain picture
    }
  }
  return pixelProjection(info.width, info.height);
}

export function pixelProjection(width: number, height: number): ImageProjection {
  const toLatLng = (p: XY): LatLngTuple => {
    const ll = simplePixelToLatLng(width, height, p);
    return [ll.lat, ll.lng];
  };
  return {
    placement: 'pixel',
    toLatLng,
    toPixel: ([lat, lng]) => simpleLatLngToPixel(width, height, { lat, lng }),
    bounds: [toLatLng([0, height]), toLatLng([width, 0])],
    maxNativeZoom: simpleMaxZoom(width, height),
  };
}

function geoProjection(info: ProjectableInfo): ImageProjection {
  const t = createPixelTransform(info);
  const toLatLng = (p: XY): LatLngTuple => {
    const [lon, lat] = t.pixelToLngLat(p);
    return [lat, lon];
  };
  const ring: LatLngTuple[] = info.footprint?.length
    ? info.footprint.map(([lon, lat]) => [lat, lon] as LatLngTuple)
    : edgeRing(info.width, info.height).map(toLatLng);
  let s = Infinity, w = Infinity, n = -Infinity, e = -Infinity;
  for (const [lat, lng] of ring) {
    s = Math.min(s, lat); n = Math.max(n, lat); w = Math.min(w, lng); e = Math.max(e, lng);
  }
  if (![s, w, n, e].every(Number.isFinite)) throw new Error('image footprint is not finite');
  const cx = info.width / 2, cy = info.height / 2;
  const [lat0, lng0] = toLatLng([cx, cy]);
  const [lat1, lng1] = toLatLng([cx + 1, cy + 1]);
  const cos = Math.cos((lat0 * Math.PI) / 180);
  // metres per image pixel along the diagonal step, divided by √2 for one side
  const res = Math.hypot((lng1 - lng0) * METRES_PER_DEGREE * cos, (lat1 - lat0) * METRES_PER_DEGREE) / Math.SQRT2;
  const zoom = res > 0 ? Math.ceil(Math.log2((2 * MERCATOR_HALF * cos) / (TILE_SIZE * res))) : 18;
  return {
    placement: 'geo',
    toLatLng,
    toPixel: ([lat, lng]) => t.lngLatToPixel([lng, lat]),
    bounds: [[s, w], [n, e]],
    maxNativeZoom: Math.max(0, Math.min(MAX_MAP_ZOOM - 1, zoom)),
  };
}

/** Points along the image edge (not just corners) so reprojected outlines keep their curvature. */
function edgeRing(width: number, height: number, steps = 8): XY[] {
  const pts: XY[] = [];
  for (let i = 0; i < steps; i++) pts.push([(width * i) / steps, 0]);
  for (let i = 0; i < steps; i++) pts.push([width, (height * i) / steps]);
  for (let i = steps; i > 0; i--) pts.push([(width * i) / steps, height]);
  for (let i = steps; i > 0; i--) pts.push([0, (height * i) / steps]);
  return pts;
}
