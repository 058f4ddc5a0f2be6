import turfArea from '@turf/area';
import turfLength from '@turf/length';
import turfRewind from '@turf/rewind';
import type { Feature, LineString, MultiPolygon, Position } from 'geojson';
import type { PixelPolygon } from '../contract/geometry.js';
import { VantageError } from '../contract/errors.js';
import { createPixelTransform, type PixelTransform, type XY } from '../contract/georef.js';
import type { ImageInfo } from '../contract/schemas.js';
import { simplifyPolygon } from './polygonSimplify.js';

/** Longest edge kept straight when projecting: beyond this many image pixels an edge gets intermediate vertices,
 * so a projection that bends straight pixel lines (UTM → lon/lat over a wide swath) still lands on the right pixels. */
export const DENSIFY_STEP_PX = 8;

/** A GCP model is trusted where pixel → CRS → pixel comes back within this many pixels (a real Sentinel-1 SLC
 * swath reaches 1.2 px at its corners; far outside the GCPs the two polynomials part by tens of pixels). */
export const GCP_ROUND_TRIP_TOLERANCE_PX = 2;

export type Image = Pick<ImageInfo, 'width' | 'height' | 'geotransform' | 'crs' | 'gcps' | 'georeferenced' | 'name'>;

export interface Measures {
  areaPx: number;
  /** geodesic (WGS84 ellipsoid), null when the image is not georeferenced */
  areaM2: number | null;
  areaHa: number | null;
  perimeterM: number | null;
}

export interface GeoPolygons {
  /** outlines in image pixels after clipping and optional simplification */
  pixel: PixelPolygon[];
  /** in the image CRS (null when not georeferenced) */
  crs: Position[][][] | null;
  /** RFC 7946: WGS84 lon/lat, outer rings counter-clockwise, holes clockwise (null when not georeferenced) */
  wgs84: Position[][][] | null;
  measures: Measures;
  /** the simplification was skipped for parts where it would have made the geometry invalid */
  notes: string[];
}

/**
 * Pixel outlines → image CRS → WGS84 for one image: densified, validated, measured. Non-georeferenced images keep
 * pixel coordinates (and say so through `georeferenced = false`).
 */
export class PolygonGeoreferencer {
  readonly transform: PixelTransform | null;
  private readonly gcpOnly: boolean;

  constructor(private readonly image: Image) {
    this.gcpOnly = !image.geotransform && (image.gcps?.length ?? 0) > 0;
    if (!image.georeferenced) {
      this.transform = null;
      return;
    }
    try {
      this.transform = createPixelTransform(image);
    } catch (err) {
      throw new VantageError('UNSUPPORTED', `${image.name}: ${(err as Error).message}`);
    }
  }

  get georeferenced(): boolean {
    return this.transform !== null;
  }

  /** Mean ground size of one pixel in metres near the image centre (null without georeferencing). */
  pixelSizeM(): number | null {
    if (!this.transform) return null;
    const cx = this.image.width / 2;
    const cy = this.image.height / 2;
    const a = this.transform.pixelToLngLat([cx, cy]);
    const b = this.transform.pixelToLngLat([cx + 1, cy]);
    const c = this.transform.pixelToLngLat([cx, cy + 1]);
    return (geodesicDistance(a, b) + geodesicDistance(a, c)) / 2;
  }

  /**
   * Projects and measures one mask's outlines. simplifyM: Douglas–Peucker tolerance in metres (pixels for
   * non-georeferenced images); 0 keeps the exact pixel-edge outline.
   */
  georeference(polys: PixelPolygon[], opts: { simplifyM?: number; label?: string } = {}): GeoPolygons {
    const label = opts.label ?? 'mask';
    const notes: string[] = [];
    let pixel = polys;
    const tol = opts.simplifyM ?? 0;
    if (tol > 0) {
      const tolPx = this.transform ? tol / (this.pixelSizeM() ?? 1) : tol;
      pixel = polys.map((p) => {
        const s = simplifyPolygon(p, tolPx);
        if (!s) notes.push(`${label}: simplification at ${tol} would make a part invalid; kept that part exact`);
        return s ?? p;
      });
    }
    const areaPx = pixel.reduce((t, p) => t + polygonAreaPx(p), 0);
    if (!this.transform) {
      return { pixel, crs: null, wgs84: null, measures: { areaPx, areaM2: null, areaHa: null, perimeterM: null }, notes };
    }
    const t = this.transform;
    const dense = pixel.map((p) => p.map((r) => densifyRing(r as XY[], DENSIFY_STEP_PX)));
    if (this.gcpOnly) this.checkGcpModel(dense, label);
    const crs = dense.map((p) => p.map((r) => r.map((xy) => t.pixelToCrs(xy) as Position)));
    const lonlat = crs.map((p) => p.map((r) => r.map((c) => (t.toWgs84 ? t.toWgs84(c as XY) : c) as Position)));
    for (const p of lonlat) for (const r of p) for (const c of r) {
      if (!Number.isFinite(c[0]) || !Number.isFinite(c[1])) {
        throw new VantageError('UNSUPPORTED', `${label}: the image CRS cannot place this outline on the globe (non-finite coordinates)`);
      }
    }
    const mp: Feature<MultiPolygon> = { type: 'Feature', properties: {}, geometry: { type: 'MultiPolygon', coordinates: lonlat } };
    const wound = turfRewind(mp, { reverse: false }) as Feature<MultiPolygon>;
    const areaM2 = turfArea(wound);
    let perimeterM = 0;
    for (const p of wound.geometry.coordinates) for (const r of p) {
      const line: Feature<LineString> = { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: r } };
      perimeterM += turfLength(line, { units: 'meters' });
    }
    return {
      pixel,
      crs,
      wgs84: wound.geometry.coordinates,
      measures: { areaPx, areaM2, areaHa: areaM2 / 10_000, perimeterM },
      notes,
    };
  }

  /** Refuses outlines where the GCP polynomials disagree: there the model extrapolates and the vector would land wrong. */
  private checkGcpModel(polys: XY[][][], label: string): void {
    const t = this.transform!;
    let worst = 0;
    for (const p of polys) for (const r of p) for (const xy of r) {
      const back = t.crsToPixel(t.pixelToCrs(xy));
      worst = Math.max(worst, Math.hypot(back[0] - xy[0], back[1] - xy[1]));
    }
    if (!(worst <= GCP_ROUND_TRIP_TOLERANCE_PX)) {
      throw new VantageError(
        'UNSUPPORTED',
        `${label}: the image's GCP model extrapolates badly here (pixel → map → pixel is off by ${Number.isFinite(worst) ? worst.toFixed(1) : '∞'} px, ` +
          `tolerance ${GCP_ROUND_TRIP_TOLERANCE_PX} px); this outline lies outside what the ground control points support, so it was not exported`,
      );
    }
  }
}

/** Inserts vertices so no edge is longer than stepPx; the closing vertex stays last. */
export function densifyRing(ring: XY[], stepPx: number): XY[] {
  const out: XY[] = [];
  for (let i = 0; i < ring.length - 1; i++) {
    const [x0, y0] = ring[i]!;
    const [x1, y1] = ring[i + 1]!;
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / stepPx));
    for (let k = 0; k < n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  out.push(ring[ring.length - 1]!);
  return out;
}

/** Shoelace area of a polygon with holes (holes subtract, whatever their winding). */
export function polygonAreaPx(p: PixelPolygon): number {
  return p.reduce((t, r, i) => t + (i === 0 ? 1 : -1) * Math.abs(ringArea(r as XY[])), 0);
}

function ringArea(r: XY[]): number {
  let s = 0;
  for (let i = 0; i < r.length - 1; i++) s += r[i]![0] * r[i + 1]![1] - r[i + 1]![0] * r[i]![1];
  return s / 2;
}

/** Great-circle distance in metres on the WGS84 mean radius (enough for a pixel-size estimate). */
export function geodesicDistance(a: XY, b: XY): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

