import L from 'leaflet';
import { useEffect } from 'react';
import { basemapStore } from '../../stores/basemapStore.js';
import { useStore } from '../../stores/createStore.js';
import { worldStore } from '../../stores/worldStore.js';
import type { WorldGeometry } from './worldData.js';
import { WORLD_ATTRIBUTION, graticuleLabel, graticuleStep, worldOpacity } from './worldScale.js';

// the 750 kB TopoJSON is its own chunk, decoded once, on the first geographic map
let world: Promise<WorldGeometry> | null = null;
const loadWorld = () => (world ??= import('./worldData.js').then((m) => m.decodeWorld()));

/** A pane of its own (created once per map): panes order the world context against the image tiles (z 200). */
function pane(map: L.Map, name: string, zIndex: number): string {
  if (!map.getPane(name)) {
    const p = map.createPane(name);
    p.style.zIndex = String(zIndex);
    p.style.pointerEvents = 'none';
  }
  return name;
}

/** Land, coastlines and borders under every image; hidden when the user's own basemap is set (it takes precedence). */
function useNaturalEarth(map: L.Map, on: boolean): void {
  const basemap = useStore(basemapStore, (s) => s.info);
  const shown = on && !basemap;
  useEffect(() => {
    if (!shown) return;
    const name = pane(map, 'vantage-world', 150);
    const renderer = L.svg({ pane: name, padding: 0.5 });
    const group = L.layerGroup();
    const attribution = L.control.attribution({ prefix: false, position: 'bottomright' }).addAttribution(WORLD_ATTRIBUTION);
    let cancelled = false;
    const fade = () => {
      map.getPane(name)!.style.opacity = String(worldOpacity(map.getZoom()));
    };
    void loadWorld().then((g) => {
      if (cancelled) return;
      const common = { pane: name, renderer, interactive: false };
      L.geoJSON(g.land, { ...common, style: { stroke: false, fillColor: '#27322a', fillOpacity: 1, className: 'vantage-world-land' } }).addTo(group);
      L.geoJSON(g.borders, { ...common, style: { color: '#8c7d5c', weight: 0.8, dashArray: '4 3', fill: false, className: 'vantage-world-borders' } }).addTo(group);
      L.geoJSON(g.coast, { ...common, style: { color: '#7fa6c2', weight: 1.2, fill: false, className: 'vantage-world-coast' } }).addTo(group);
      group.addTo(map);
    });
    fade();
    attribution.addTo(map);
    map.on('zoomend', fade);
    return () => {
      cancelled = true;
      map.off('zoomend', fade);
      group.remove();
      attribution.remove();
    };
  }, [map, shown]);
}

/** Labelled meridians and parallels over the imagery (under drawings), spaced to the zoom, redrawn on every move. */
function useGraticule(map: L.Map, on: boolean): void {
  useEffect(() => {
    if (!on) return;
    const name = pane(map, 'vantage-graticule', 350);
    const renderer = L.svg({ pane: name, padding: 0.2 });
    const group = L.layerGroup().addTo(map);
    const draw = () => {
      group.clearLayers();
      const b = map.getBounds();
      const south = Math.max(b.getSouth(), -85);
      const north = Math.min(b.getNorth(), 85);
      if (north <= south) return;
      const step = graticuleStep(b.getEast() - b.getWest(), map.getSize().x);
      const line = { pane: name, renderer, interactive: false, color: '#c8d2dc', weight: 0.6, opacity: 0.55, className: 'vantage-graticule-line' };
      const label = (at: L.LatLngExpression, text: string, cls: string) =>
        L.marker(at, { pane: name, interactive: false, keyboard: false, icon: L.divIcon({ className: `vantage-graticule-label ${cls}`, html: `<span>${text}</span>`, iconSize: undefined }) }).addTo(group);
      for (let i = Math.ceil(b.getWest() / step); i * step <= b.getEast(); i++) {
        const lng = i * step;
        L.polyline([[south, lng], [north, lng]], line).addTo(group);
        label(map.containerPointToLatLng([map.latLngToContainerPoint([north, lng]).x, 2]), graticuleLabel(lng, step, 'lng'), 'meridian');
      }
      for (let i = Math.ceil(south / step); i * step <= north; i++) {
        const lat = i * step;
        L.polyline([[lat, b.getWest()], [lat, b.getEast()]], line).addTo(group);
        label(map.containerPointToLatLng([4, map.latLngToContainerPoint([lat, b.getWest()]).y]), graticuleLabel(lat, step, 'lat'), 'parallel');
      }
    };
    draw();
    map.on('moveend zoomend resize', draw);
    return () => {
      map.off('moveend zoomend resize', draw);
      group.remove();
    };
  }, [map, on]);
}

function useScaleBar(map: L.Map, on: boolean): void {
  useEffect(() => {
    if (!on) return;
    const scale = L.control.scale({ metric: true, imperial: false, position: 'bottomleft' }).addTo(map);
    return () => {
      scale.remove();
    };
  }, [map, on]);
}

/**
 * The offline world context of a geographic map (EPSG:3857): Natural Earth land/coast/borders, a graticule and a
 * scale bar, each toggled in the Layers panel. A pixel-space map (CRS.Simple) has no geography: nothing is drawn.
 */
export function WorldLayers({ map }: { map: L.Map }) {
  const prefs = useStore(worldStore, (s) => s);
  const geographic = map.options.crs !== L.CRS.Simple;
  useNaturalEarth(map, geographic && prefs.world);
  useGraticule(map, geographic && prefs.graticule);
  useScaleBar(map, geographic && prefs.scale);
  return null;
}
