import L from 'leaflet';
import { useEffect } from 'react';
import type { RegionGeometry } from '../../../../main/contract/geometry.js';
import { regionAnchor, regionShape } from '../../map/regionGeometry.js';
import { regionLabelText } from '../../map/regionLabel.js';
import { caseStore, type CaseImage } from '../../stores/caseStore.js';
import { useStore } from '../../stores/createStore.js';
import { mapStore, shownImages } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { regionLayer, textNode } from './vectorLayer.js';

/** Pending regions (to go with the next question) and the stored regions of earlier turns. */
export function RegionLayers({ map }: { map: L.Map }) {
  const c = useStore(caseStore, (s) => s);
  const pending = useStore(mapStore, (s) => s.pending);
  const shown = shownImages(c);
  const imageOf = (id: string) => shown.find((i) => i.id === id);
  return (
    <>
      {c.regions.map((r) => {
        const img = imageOf(r.imageId);
        return img ? <RegionShapeLayer key={r.id} map={map} image={img} geometry={r.geometry} label={r.label} pending={false} /> : null;
      })}
      {pending.map((r, i) => {
        const img = imageOf(r.imageId);
        return img ? <RegionShapeLayer key={r.key} map={map} image={img} geometry={r.geometry} label={`<region ${i + 1}>`} pending /> : null;
      })}
    </>
  );
}

function RegionShapeLayer(props: { map: L.Map; image: CaseImage; geometry: RegionGeometry; label: string; pending: boolean }) {
  const { map, image, geometry, label, pending } = props;
  useEffect(() => {
    const proj = projectionOf(image);
    const cls = `vantage-region ${pending ? 'vantage-region-pending' : 'vantage-region-stored'}`;
    const group = L.featureGroup();
    regionLayer(regionShape(geometry, proj), cls).addTo(group);
    const labelText = regionLabelText(label);
    L.tooltip({ permanent: true, direction: 'top', className: 'vantage-region-label', offset: [0, -4], interactive: false })
      .setLatLng(proj.toLatLng(regionAnchor(geometry)))
      .setContent(textNode(labelText))
      .addTo(group);
    group.addTo(map);
    return () => {
      group.remove();
    };
  }, [map, image, geometry, label, pending]);
  return null;
}
