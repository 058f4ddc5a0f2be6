import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import type { MeasuredObject, ReportExtent } from '../../../../main/contract/calls/reports.js';
import { pointsBounds } from '../../../../main/contract/geometry.js';
import { colourOf } from '../../../../main/contract/objectStyle.js';
import type { Mask } from '../../../../main/contract/schemas.js';
import { maskRings } from '../../map/regionGeometry.js';
import { activeImage, caseStore, objectNames, type CaseImage } from '../../stores/caseStore.js';
import { useStore } from '../../stores/createStore.js';
import { shownImages } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { formatArea, reportStore, setMapExtent } from '../../stores/reportStore.js';
import { objectOpacity, objectViewStore } from '../../stores/objectViewStore.js';
import { textNode } from './vectorLayer.js';

/** Hover text: geodesic m²/ha from the measured objects (the server's figures, as in the object list), else px². */
function areaText(mask: Mask, measured: MeasuredObject | undefined): string {
  return measured && !measured.problem ? formatArea(measured) : `${Math.round(mask.areaPx).toLocaleString('en-US')} px²`;
}

/** What the map shows, for a "current map view" PDF: a lon/lat box on georeferenced images, pixels otherwise. */
function useMapExtent(map: L.Map): void {
  useEffect(() => {
    let last = '';
    const set = (e: ReportExtent | null) => {
      // the case changes often (hover, new masks): only a new extent is news
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
    const unsubscribe = caseStore.subscribe(update);
    return () => {
      map.off('moveend', update);
      unsubscribe();
    };
  }, [map]);
}

export function MaskLayers({ map }: { map: L.Map }) {
  const state = useStore(caseStore, (s) => s);
  const objects = useStore(reportStore, (s) => s.objects);
  const view = useStore(objectViewStore, (s) => s);
  const shown = shownImages(state);
  const names = useStore(caseStore, objectNames);
  useMapExtent(map);
  // drawn in the case's order (later objects on top), also after an undo brings one back into the middle or an
  // edit redraws one or a hidden one is shown again (children's effects have run when this one runs)
  const drawn = useRef(new Map<string, L.Polygon>());
  const masks = state.masks;
  const order = useRef<readonly Mask[]>(masks);
  order.current = masks;
  // a layer may be (re)built in a later commit than the one that ordered the masks (its outline or image arrived
  // later): every build asks for one reordering, run once after the builds of that moment
  const [reorder] = useState(() => {
    let pending = false;
    return () => {
      if (pending) return;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        for (const m of order.current) drawn.current.get(m.id)?.bringToFront();
      });
    };
  });
  useEffect(() => {
    for (const m of masks) drawn.current.get(m.id)?.bringToFront();
  }, [masks, shown.length, view.hidden]);
  return (
    <>
      {state.masks.map((m, i) => {
        const img = shown.find((s) => s.id === m.imageId);
        // the colour kept with the object (the palette by its place only for one not stored yet)
        return img && !view.hidden.includes(m.id) ? (
          <MaskLayer key={m.id} map={map} drawn={drawn.current} reorder={reorder} image={img} mask={m} colour={colourOf(m, i)} name={names.get(m.id) ?? ''} opacity={objectOpacity(view, m.id)} focused={state.focusedMaskId === m.id} area={areaText(m, objects.find((o) => o.maskId === m.id))} />
        ) : null;
      })}
    </>
  );
}

/** `opacity` (0…1, per object) scales both the fill and the outline */
const maskStyle = (colour: string, focused: boolean, opacity: number): L.PathOptions => ({
  color: colour,
  fillColor: colour,
  fillOpacity: (focused ? 0.5 : 0.35) * opacity,
  opacity,
  weight: focused ? 3 : 1.5,
});

/** One mask's polygon: built when its outline or image changes; colour, focus and hover text restyle it in place. */
function MaskLayer(props: { map: L.Map; drawn: Map<string, L.Polygon>; reorder: () => void; image: CaseImage; mask: Mask; colour: string; name: string; opacity: number; focused: boolean; area: string }) {
  const { map, drawn, reorder, image, mask, colour, name, opacity, focused, area } = props;
  const layerRef = useRef<L.Polygon | null>(null);
  const style = useRef({ colour, name, opacity, focused, area });
  style.current = { colour, name, opacity, focused, area };
  useEffect(() => {
    const rings = maskRings(mask.polygons, projectionOf(image));
    if (rings.length === 0) return;
    const now = style.current;
    const layer = L.polygon(rings, { className: `vantage-mask${now.focused ? ' vantage-mask-focused' : ''}`, ...maskStyle(now.colour, now.focused, now.opacity) });
    layer.bindTooltip(textNode(`${now.name} · ${now.area}`), { sticky: true, className: 'vantage-mask-tooltip' });
    layer.addTo(map);
    layerRef.current = layer;
    drawn.set(mask.id, layer);
    reorder();
    return () => {
      layerRef.current = null;
      if (drawn.get(mask.id) === layer) drawn.delete(mask.id);
      layer.remove();
    };
  }, [map, drawn, reorder, image, mask]);
  useEffect(() => {
    const layer = layerRef.current;
    if (!layer) return;
    layer.setStyle(maskStyle(colour, focused, opacity));
    layer.getElement()?.classList.toggle('vantage-mask-focused', focused);
  }, [colour, focused, opacity]);
  useEffect(() => {
    layerRef.current?.setTooltipContent(textNode(`${name} · ${area}`));
  }, [name, area]);
  return null;
}
