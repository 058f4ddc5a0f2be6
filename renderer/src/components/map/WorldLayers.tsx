import L from 'leaflet';
import { useEffect } from 'react';
import { basemapStore } from '../../stores/basemapStore.js';
import { useStore } from '../../stores/createStore.js';
import { worldStore } from '../../stores/worldStore.js';
import { PLACES_ATTRIBUTION, placesInView, type Place } from './places.js';
import type { WorldGeometry } from './worldData.js';
import { WORLD_ATTRIBUTION, graticuleLabel, graticuleStep, worldOpacity } from './worldScale.js';

// the 750 kB TopoJSON is its own chunk, decoded once, on the first geographic map
let world: Promise<WorldGeometry> | null = null;
const loadWorld = () => (world ??= import('./worldData.js').then((m) => m.decodeWorld()));
// the GeoNames places (≈ 24 000, ≈ 1 MB) likewise: their own chunk, on the first geographic map with names on
let places: Promise<readonly Place[]> | null = null;
const loadPlaces = () => (places ??= import('virtual:vantage-places').then((m) => m.default));

/** A pane of its own (created once per map): panes order the world context against the image tiles (z 200). */
function pane(map: L.Map, name: string, zIndex: number): string {
  if (!map.getPane(name)) {
    const p = map.createPane(name);
    p.style.zIndex = String(zIndex);
    p.style.pointerEvents = 'none';
  }
  return name;
}

/** One attribution control per map, shared by the world layers (each adds and removes its own line). */
const attributions = new WeakMap<L.Map, L.Control.Attribution>();
function attribution(map: L.Map): L.Control.Attribution {
  let c = attributions.get(map);
  if (!c) {
    c = L.control.attribution({ prefix: false, position: 'bottomright' }).addTo(map);
    attributions.set(map, c);
  }
  return c;
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
    attribution(map).addAttribution(WORLD_ATTRIBUTION);
    map.on('zoomend', fade);
    return () => {
      cancelled = true;
      map.off('zoomend', fade);
      group.remove();
      attribution(map).removeAttribution(WORLD_ATTRIBUTION);
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

/** Place names (GeoNames), as many as the zoom can hold without overlapping, redrawn on every move. */
function usePlaceNames(map: L.Map, on: boolean): void {
  useEffect(() => {
    if (!on) return;
    const name = pane(map, 'vantage-places', 360);
    const group = L.layerGroup().addTo(map);
    attribution(map).addAttribution(PLACES_ATTRIBUTION);
    let all: readonly Place[] | null = null;
    let cancelled = false;
    const draw = () => {
      group.clearLayers();
      if (!all) return;
      const b = map.getBounds();
      const shown = placesInView(
        all,
        [b.getWest(), Math.max(b.getSouth(), -85), b.getEast(), Math.min(b.getNorth(), 85)],
        map.getZoom(),
        (lon, lat) => map.latLngToContainerPoint([lat, lon]),
        (p) => ({ width: p[0].length * 6.5 + 12, height: 16 }),
      );
      for (const { place } of shown) {
        const [label, lon, lat, population, capital] = place;
        const span = document.createElement('span');
        span.textContent = label; // names come from data: never as HTML
        span.title = `${label} · ${population.toLocaleString()} inhabitants (GeoNames)`;
        L.marker([lat, lon], {
          pane: name,
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: `vantage-place-label${capital ? ' capital' : ''}`, html: span, iconSize: undefined }),
        }).addTo(group);
      }
    };
    void loadPlaces().then((p) => {
      if (cancelled) return;
      all = p;
      draw();
    });
    map.on('moveend zoomend resize', draw);
    return () => {
      cancelled = true;
      map.off('moveend zoomend resize', draw);
      group.remove();
      attribution(map).removeAttribution(PLACES_ATTRIBUTION);
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
 * The offline world context of a geographic map (EPSG:3857): Natural Earth land/coast/borders, a graticule, place
 * names and a scale bar, each toggled in the Layers panel. A pixel-space map (CRS.Simple) has no geography: nothing is drawn.
 */
export function WorldLayers({ map }: { map: L.Map }) {
  const prefs = useStore(worldStore, (s) => s);
  const geographic = map.options.crs !== L.CRS.Simple;
  useNaturalEarth(map, geographic && prefs.world);
  useGraticule(map, geographic && prefs.graticule);
  usePlaceNames(map, geographic && prefs.places);
  useScaleBar(map, geographic && prefs.scale);
  return null;
}
