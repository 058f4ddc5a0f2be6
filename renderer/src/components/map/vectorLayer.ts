import L from 'leaflet';
import type { RegionShape } from '../../map/regionGeometry.js';

/** Tooltip content as a DOM node: labels such as "<region 1>" must show as text, never be parsed as HTML. */
export function textNode(text: string, className?: string): HTMLElement {
  const span = document.createElement('span');
  if (className) span.className = className;
  span.textContent = text;
  return span;
}

/**
 * Regions are not interactive: they must never take the clicks of a drawing tool, and a preview redrawn between
 * the two clicks of a double-click would otherwise swallow the dblclick.
 */
export function regionLayer(shape: RegionShape, className: string): L.Path {
  switch (shape.kind) {
    case 'marker':
      return L.circleMarker(shape.at, { radius: 6, className, weight: 2, interactive: false });
    case 'polygon':
      return L.polygon(shape.rings, { className, weight: 2, interactive: false });
    case 'polyline':
      return L.polyline(shape.points, { className, weight: 4, lineCap: 'round', lineJoin: 'round', interactive: false });
  }
}
