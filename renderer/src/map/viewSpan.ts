import type L from 'leaflet';
import type { ImageProjection } from './imageProjection.js';

/**
 * The shorter side of the map's visible extent in image pixels of `proj`'s image (chat.instantMask's viewSpanPx):
 * the image-pixel scale at the map centre (screen px → lat/lng → image px, as the status bar's pixel readout
 * converts; Web Mercator for georeferenced images) times the shorter side of the map in screen pixels.
 * Undefined when the map has no size or the transform gives nothing finite there.
 */
export function visibleSpanPx(map: L.Map, proj: ImageProjection): number | undefined {
  const size = map.getSize();
  const side = Math.min(size.x, size.y);
  if (!(side > 0)) return undefined;
  const cx = size.x / 2, cy = size.y / 2, d = side / 4;
  const px = (x: number, y: number) => {
    const ll = map.containerPointToLatLng([x, y]);
    return proj.toPixel([ll.lat, ll.lng]);
  };
  const [l, r, t, b] = [px(cx - d, cy), px(cx + d, cy), px(cx, cy - d), px(cx, cy + d)];
  // image px per screen px along each screen axis, averaged (a rotated image still measures its own pixels)
  const scale = (Math.hypot(r[0] - l[0], r[1] - l[1]) + Math.hypot(b[0] - t[0], b[1] - t[1])) / (4 * d);
  const span = scale * side;
  return Number.isFinite(span) && span > 0 ? span : undefined;
}
