import L from 'leaflet';
import { useEffect } from 'react';
import type { Mask } from '../../../../main/contract/schemas.js';
import { maskRings } from '../../map/regionGeometry.js';
import { useStore } from '../../stores/createStore.js';
import { mapStore, shownImages, type MapImage } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { textNode } from './vectorLayer.js';

export const MASK_COLOURS = ['#ff9f1c', '#2ec4b6', '#e71d36', '#a06cd5', '#8ac926', '#ffca3a', '#1982c4', '#ff595e'];

export function maskColour(index: number): string {
  return MASK_COLOURS[index % MASK_COLOURS.length]!;
}

export function MaskLayers({ map }: { map: L.Map }) {
  const state = useStore(mapStore, (s) => s);
  const shown = shownImages(state);
  return (
    <>
      {state.masks.map((m, i) => {
        const img = shown.find((s) => s.id === m.imageId);
        return img ? (
          <MaskLayer key={m.id} map={map} image={img} mask={m} colour={maskColour(i)} focused={state.focusedMaskId === m.id} />
        ) : null;
      })}
    </>
  );
}

function MaskLayer({ map, image, mask, colour, focused }: { map: L.Map; image: MapImage; mask: Mask; colour: string; focused: boolean }) {
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
    layer.bindTooltip(textNode(`${phrase} · ${Math.round(mask.areaPx).toLocaleString()} px²`), {
      sticky: true,
      className: 'vantage-mask-tooltip',
    });
    layer.addTo(map);
    return () => {
      layer.remove();
    };
  }, [map, image, mask, colour, focused]);
  return null;
}
