import L from 'leaflet';
import { useEffect, useRef } from 'react';
import { useStore } from '../../stores/createStore.js';
import { mapStore, viewChanged, type ViewRequest } from '../../stores/mapStore.js';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function apply(map: L.Map, req: ViewRequest) {
  if (req.kind === 'view') {
    map.setView([clamp(req.view.lat, -85, 85), req.view.lng], req.view.zoom, { animate: false });
  } else {
    map.fitBounds(L.latLngBounds(req.bounds), { padding: [24, 24], animate: false });
  }
}

/** Applies view requests from the store (restore, fit to image, focus a mask) and reports the view back to be saved. */
export function ViewSync({ map }: { map: L.Map }) {
  const req = useStore(mapStore, (s) => s.viewRequest);
  const applied = useRef<number>(-1);

  useEffect(() => {
    if (req && req.seq !== applied.current) {
      applied.current = req.seq;
      apply(map, req);
    }
  }, [map, req]);

  useEffect(() => {
    const onMoveEnd = () => {
      const c = map.getCenter();
      viewChanged({ lat: clamp(c.lat, -90, 90), lng: clamp(c.lng, -1e4, 1e4), zoom: clamp(map.getZoom(), -10, 30) });
    };
    map.on('moveend', onMoveEnd);
    return () => {
      map.off('moveend', onMoveEnd);
    };
  }, [map]);
  return null;
}
