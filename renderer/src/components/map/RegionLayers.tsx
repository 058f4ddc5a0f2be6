import L from 'leaflet';
import { useEffect } from 'react';
import type { RegionGeometry } from '../../../../main/contract/geometry.js';
import { regionAnchor, regionShape } from '../../map/regionGeometry.js';
import { caseRegionLabels } from '../../map/regionLabel.js';
import { caseStore, type CaseImage } from '../../stores/caseStore.js';
import { useStore } from '../../stores/createStore.js';
import { mapStore, shownImages } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { regionLayer, textNode } from './vectorLayer.js';

/** Pending regions (to go with the next question) and the stored regions of earlier turns, each with its own label. */
export function RegionLayers({ map }: { map: L.Map }) {
  const c = useStore(caseStore, (s) => s);
  const pending = useStore(mapStore, (s) => s.pending);
  const shown = shownImages(c);
  const imageOf = (id: string) => shown.find((i) => i.id === id);
  const questions = c.turns.filter((t) => t.role === 'user' && t.saved).map((t) => t.regionLabels.length);
  const labels = caseRegionLabels(c.regions.map((r) => r.label), questions, pending.length);
  return (
    <>
      {c.regions.map((r, i) => {
        const img = imageOf(r.imageId);
        return img ? <RegionShapeLayer key={r.id} map={map} image={img} geometry={r.geometry} label={labels.stored[i]!} pending={false} /> : null;
      })}
      {pending.map((r, i) => {
        const img = imageOf(r.imageId);
        return img ? <RegionShapeLayer key={r.key} map={map} image={img} geometry={r.geometry} label={labels.pending[i]!} pending /> : null;
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
    const tooltip = L.tooltip({ permanent: true, direction: 'top', className: 'vantage-region-label', offset: [0, -4], interactive: false })
      .setLatLng(proj.toLatLng(regionAnchor(geometry)))
      .setContent(textNode(label))
      .addTo(group);
    group.addTo(map);
    return () => {
      group.remove();
      // Leaflet fades a removed tooltip out for 200 ms: a relabelled region showed its old and new labels together
      tooltip.getElement()?.remove();
    };
  }, [map, image, geometry, label, pending]);
  return null;
}
