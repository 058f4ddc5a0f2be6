import L from 'leaflet';
import { useEffect } from 'react';
import { maskRings } from '../../map/regionGeometry.js';
import { useStore } from '../../stores/createStore.js';
import { instantMaskStore } from '../../stores/instantMaskStore.js';
import { caseStore } from '../../stores/caseStore.js';
import { shownImages } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { textNode } from './vectorLayer.js';
import { CLASSICAL_MASK_NOTE } from '../../../../main/contract/calls/chat.js';

/** The instant-mask preview (dashed outline) for the latest point or box, until the question is sent. */
export function InstantMaskLayer({ map }: { map: L.Map }) {
  const preview = useStore(instantMaskStore, (s) => s.preview);
  const image = useStore(caseStore, (s) => (preview ? shownImages(s).find((i) => i.id === preview.imageId) : undefined));
  useEffect(() => {
    if (!preview || !image) return;
    const rings = maskRings(preview.polygons, projectionOf(image));
    if (rings.length === 0) return;
    const layer = L.polygon(rings, { className: 'vantage-instant-mask', color: '#ffffff', dashArray: '4 4', fillOpacity: 0.2, weight: 2 });
    const how = preview.method === 'classical' ? CLASSICAL_MASK_NOTE : `score ${preview.score.toFixed(2)}`;
    layer.bindTooltip(textNode(`preview · ${how} · ${Math.round(preview.ms)} ms${preview.cached ? ' (cached view)' : ''}`), { sticky: true });
    layer.addTo(map);
    return () => {
      layer.remove();
    };
  }, [map, image, preview]);
  return null;
}
