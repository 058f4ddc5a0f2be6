import type L from 'leaflet';
import { useEffect } from 'react';
import { activeImage } from '../../stores/caseStore.js';
import { setCursor } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';

/** Cursor position for the status bar, at most once per animation frame. */
export function CursorTracker({ map }: { map: L.Map }) {
  useEffect(() => {
    let frame = 0;
    let last: L.LatLng | null = null;
    const flush = () => {
      frame = 0;
      if (!last) return setCursor(null);
      const img = activeImage();
      const px = img ? projectionOf(img).toPixel([last.lat, last.lng]) : null;
      setCursor({ lat: last.lat, lng: last.lng, px: px && px.every(Number.isFinite) ? px : null });
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const onMove = (e: L.LeafletMouseEvent) => {
      last = e.latlng;
      schedule();
    };
    const onOut = () => {
      last = null;
      schedule();
    };
    map.on('mousemove', onMove);
    map.on('mouseout', onOut);
    return () => {
      map.off('mousemove', onMove);
      map.off('mouseout', onOut);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [map]);
  return null;
}
