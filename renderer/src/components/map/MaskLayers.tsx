import L from 'leaflet';
import { useEffect } from 'react';
import type { MeasuredObject, ReportExtent } from '../../../../main/contract/calls/reports.js';
import { pointsBounds } from '../../../../main/contract/geometry.js';
import type { Mask } from '../../../../main/contract/schemas.js';
import { maskRings } from '../../map/regionGeometry.js';
import { useStore } from '../../stores/createStore.js';
import { activeImage, mapStore, shownImages, type MapImage } from '../../stores/mapStore.js';
import { formatArea, reportStore, setMapExtent } from '../../stores/reportStore.js';
import { projectionOf } from '../../stores/projections.js';
import { textNode } from './vectorLayer.js';

export const MASK_COLOURS = ['#ff9f1c', '#2ec4b6', '#e71d36', '#a06cd5', '#8ac926', '#ffca3a', '#1982c4', '#ff595e'];

export function maskColour(index: number): string {
  return MASK_COLOURS[index % MASK_COLOURS.length]!;
}

/** Hover text: geodesic m²/ha from the measured objects (the server's figures, as in the object list), else px². */
function areaText(mask: Mask, measured: MeasuredObject | undefined): string {
  return measured && !measured.problem ? formatArea(measured) : `${Math.round(mask.areaPx).toLocaleString('en-US')} px²`;
}

/** What the map shows, for a "current map view" PDF: a lon/lat box on georeferenced images, pixels otherwise. */
function useMapExtent(map: L.Map): void {
  useEffect(() => {
    let last = '';
    const set = (e: ReportExtent | null) => {
      // the map store changes often (hover, cursor-free edits): only a new extent is news
      const key = JSON.stringify(e);
      if (key !== last) {
        last = key;
        setMapExtent(e);
      }
    };
    const update = () => {
      const img = activeImage();
      const b = map.getBounds();
      if (!img || !b.isValid()) return set(null);
      const proj = projectionOf(img);
      if (proj.placement === 'geo') {
        const clamp = (v: number, lim: number) => Math.max(-lim, Math.min(lim, v));
        return set({ kind: 'wgs84', bbox: [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)] });
      }
      set({ kind: 'pixels', imageId: img.id, rect: pointsBounds([proj.toPixel([b.getNorth(), b.getWest()]), proj.toPixel([b.getSouth(), b.getEast()])]) });
    };
    update();
    map.on('moveend', update);
    const unsubscribe = mapStore.subscribe(update);
    return () => {
      map.off('moveend', update);
      unsubscribe();
    };
  }, [map]);
}

export function MaskLayers({ map }: { map: L.Map }) {
  const state = useStore(mapStore, (s) => s);
  const objects = useStore(reportStore, (s) => s.objects);
  const shown = shownImages(state);
  useMapExtent(map);
  return (
    <>
      {state.masks.map((m, i) => {
        const img = shown.find((s) => s.id === m.imageId);
        return img ? (
          <MaskLayer key={m.id} map={map} image={img} mask={m} colour={maskColour(i)} focused={state.focusedMaskId === m.id} area={areaText(m, objects.find((o) => o.maskId === m.id))} />
        ) : null;
      })}
    </>
  );
}

function MaskLayer({ map, image, mask, colour, focused, area }: { map: L.Map; image: MapImage; mask: Mask; colour: string; focused: boolean; area: string }) {
  useEffect(() => {
    const rings = maskRings(mask.polygons, projectionOf(image));
    if (rings.length === 0) return;
    const layer = L.polygon(rings, {
      className: `vantage-mask${focused ? ' vantage-mask-focused' : ''}`,
      color: colour,
      fillColor: colour,
      fillOpacity: focused ? 0.5 : 0.35,
      weight: focused ? 3 : 1.5,
    });
    const phrase = mask.phrase ?? 'mask';
    layer.bindTooltip(textNode(`${phrase} · ${area}`), {
      sticky: true,
      className: 'vantage-mask-tooltip',
    });
    layer.addTo(map);
    return () => {
      layer.remove();
    };
  }, [map, image, mask, colour, focused, area]);
  return null;
}
