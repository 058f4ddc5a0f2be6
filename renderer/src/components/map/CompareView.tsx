import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import type { ChangeResult } from '../../../../main/contract/calls/change.js';
import { emitAppEvent } from '../../appEvents.js';
import { MAX_MAP_ZOOM } from '../../map/imageProjection.js';
import type { CaseImage } from '../../stores/caseStore.js';
import { compareStore, focusChange, hoverChange } from '../../stores/compareStore.js';
import { useStore } from '../../stores/createStore.js';
import { imageTileUrl } from '../../stores/displayStore.js';
import { projectionOf } from '../../stores/projections.js';
import { TILE_PAD } from './ImageLayers.js';
import { WorldLayers } from './WorldLayers.js';

/** Tiles of one image from the contract's imagery.tile resource, overlapping by TILE_PAD px as on the main map. */
class CompareTileLayer extends L.TileLayer {
  constructor(private readonly imageId: string, options: L.TileLayerOptions) {
    super('', options);
    this.on('tileloadstart', (e: L.TileEvent) => {
      const size = this.getTileSize();
      e.tile.style.width = `${size.x + TILE_PAD}px`;
      e.tile.style.height = `${size.y + TILE_PAD}px`;
    });
  }
  override getTileUrl(coords: L.Coords): string {
    return imageTileUrl(this.imageId, coords, undefined, TILE_PAD);
  }
}

function newMap(el: HTMLElement, pixel: boolean): L.Map {
  return L.map(el, {
    crs: pixel ? L.CRS.Simple : L.CRS.EPSG3857,
    attributionControl: false,
    zoomControl: true,
    minZoom: pixel ? -6 : 1,
    maxZoom: MAX_MAP_ZOOM,
    zoomSnap: 0.25,
    zoomDelta: 0.5,
  });
}

function tileLayer(img: CaseImage): CompareTileLayer {
  const p = projectionOf(img);
  return new CompareTileLayer(img.id, {
    tileSize: 256,
    className: 'vantage-image-layer',
    noWrap: true,
    bounds: L.latLngBounds(p.bounds),
    maxNativeZoom: p.maxNativeZoom,
    maxZoom: MAX_MAP_ZOOM,
    minZoom: p.placement === 'pixel' ? -6 : 0,
  });
}

/**
 * How a changed area is drawn: a translucent fill that leaves the image readable, an outline only under the pointer
 * (map or list) and a bright outline on the area picked in the list.
 */
const CHANGE_FILL = '#ff3b30';
const changeStyle = (state: 'plain' | 'hover' | 'focus'): L.PathOptions =>
  state === 'plain'
    ? { stroke: false, fillColor: CHANGE_FILL, fillOpacity: 0.3 }
    : state === 'hover'
      ? { stroke: true, color: '#ffffff', weight: 2, opacity: 1, fillColor: CHANGE_FILL, fillOpacity: 0.4 }
      : { stroke: true, color: '#ffd60a', weight: 3, opacity: 1, fillColor: CHANGE_FILL, fillOpacity: 0.45 };

const changeArea = (c: ChangeResult['polygons'][number]) =>
  c.areaM2 !== null ? (c.areaM2 >= 1e4 ? `${(c.areaM2 / 1e4).toFixed(2)} ha` : `${c.areaM2.toFixed(0)} m²`) : `${c.areaPx.toFixed(0)} px`;

/** Change polygons (image A pixels) drawn through A's projection, one per changed area, in result order. */
function changeLayer(a: CaseImage, result: ChangeResult | null): { group: L.LayerGroup; polygons: L.Polygon[] } {
  const group = L.layerGroup();
  const polygons: L.Polygon[] = [];
  if (!result) return { group, polygons };
  const p = projectionOf(a);
  result.polygons.forEach((c, i) => {
    const poly = L.polygon(
      c.polygon.map((ring) => ring.map((v) => p.toLatLng(v as [number, number]))),
      { ...changeStyle('plain'), className: 'change-polygon' },
    )
      .bindTooltip(`#${i + 1} · ${changeArea(c)} · mean magnitude ${c.meanMagnitude.toFixed(2)}`, { sticky: true })
      .on('mouseover', () => hoverChange(i))
      .on('mouseout', () => hoverChange(null))
      .on('click', () => focusChange(i))
      .addTo(group);
    polygons.push(poly);
  });
  return { group, polygons };
}

/**
 * The two dates on their own maps: side by side with linked pan/zoom (each map follows the other's moves), or
 * blink (one map, B's layer shown or hidden), or swipe (one map, B's layer clipped to the right of a divider).
 * Change polygons sit on every map. The main map is left alone.
 */
export function CompareView(props: {
  a: CaseImage;
  b: CaseImage;
  mode: 'side' | 'blink' | 'swipe';
  showingB: boolean;
  swipe: number;
  result: ChangeResult | null;
}) {
  const { a, b, mode, showingB, swipe, result } = props;
  const leftEl = useRef<HTMLDivElement>(null);
  const rightEl = useRef<HTMLDivElement>(null);
  // the maps remember the mode they were built for: on a mode switch the other effects first run once with the
  // previous (already removed) maps, which they must leave alone
  const [maps, setMaps] = useState<{ left: L.Map; right: L.Map | null; bLayer: L.TileLayer; mode: typeof mode } | null>(null);

  useEffect(() => {
    const pixel = projectionOf(a).placement === 'pixel';
    const left = newMap(leftEl.current!, pixel);
    left.fitBounds(L.latLngBounds(projectionOf(a).bounds));
    tileLayer(a).once('load', () => emitAppEvent('tiles-loaded')).addTo(left);
    let right: L.Map | null = null;
    let bLayer: L.TileLayer;
    if (mode === 'side') {
      right = newMap(rightEl.current!, pixel);
      right.setView(left.getCenter(), left.getZoom(), { animate: false });
      bLayer = tileLayer(b).addTo(right);
      // linked pan/zoom: a move on one map is replayed on the other; the guard stops the echo
      let syncing = false;
      const link = (from: L.Map, to: L.Map) =>
        from.on('move zoomend', () => {
          if (syncing) return;
          syncing = true;
          to.setView(from.getCenter(), from.getZoom(), { animate: false });
          syncing = false;
        });
      link(left, right);
      link(right, left);
    } else {
      bLayer = tileLayer(b).addTo(left);
    }
    setMaps({ left, right, bLayer, mode });
    // the panel's rows below the maps (results, the list of changes) change their height: Leaflet only follows window
    // resizes, so without this the maps keep their old size and centre (a zoom to a change lands off-centre)
    const resized = new ResizeObserver(() => {
      left.invalidateSize({ pan: false });
      right?.invalidateSize({ pan: false });
    });
    resized.observe(leftEl.current!);
    if (right) resized.observe(rightEl.current!);
    return () => {
      resized.disconnect();
      setMaps(null);
      left.remove();
      right?.remove();
    };
  }, [a, b, mode]);

  useEffect(() => {
    if (!maps || maps.mode !== 'blink') return;
    maps.bLayer.setOpacity(showingB ? 1 : 0);
  }, [maps, showingB]);

  useEffect(() => {
    if (!maps || maps.mode !== 'swipe') return;
    const { left, bLayer } = maps;
    // the layer container lives in layer-point space, which pans with the map: the clip is recomputed on every move
    // (CSS `clip` rather than clip-path: the container is an unsized absolutely positioned box)
    const clip = () => {
      const nw = left.containerPointToLayerPoint([0, 0]);
      const se = left.containerPointToLayerPoint(left.getSize());
      const x = nw.x + (se.x - nw.x) * swipe;
      bLayer.getContainer()!.style.clip = `rect(${nw.y}px, ${se.x}px, ${se.y}px, ${x}px)`;
    };
    clip();
    left.on('move zoomend resize', clip);
    return () => {
      left.off('move zoomend resize', clip);
    };
  }, [maps, swipe]);

  const hovered = useStore(compareStore, (x) => x.hoveredChange);
  const focused = useStore(compareStore, (x) => x.focusedChange);
  const [drawn, setDrawn] = useState<L.Polygon[][]>([]);
  useEffect(() => {
    if (!maps) return;
    const layers = [maps.left, maps.right].filter((m): m is L.Map => m !== null).map((m) => {
      const l = changeLayer(a, result);
      l.group.addTo(m);
      l.polygons.forEach((poly, i) => poly.getElement()?.setAttribute('data-change-index', String(i)));
      return l;
    });
    setDrawn(layers.map((l) => l.polygons));
    return () => {
      setDrawn([]);
      layers.forEach((l) => l.group.remove());
    };
  }, [maps, a, result]);

  // outline the area under the pointer and the one picked in the list (on every map)
  useEffect(() => {
    for (const polys of drawn) {
      polys.forEach((poly, i) => {
        const state = focused?.index === i ? 'focus' : hovered === i ? 'hover' : 'plain';
        poly.setStyle(changeStyle(state));
        poly.getElement()?.classList.toggle('change-focused', state === 'focus');
        if (state !== 'plain') poly.bringToFront();
      });
    }
  }, [drawn, hovered, focused]);

  // a pick in the list zooms the maps to the area, with room around it to see its surroundings (side by side: the
  // right map follows the left)
  useEffect(() => {
    if (!maps || !focused || maps.mode !== mode) return;
    const poly = drawn[0]?.[focused.index];
    if (!poly) return;
    maps.left.fitBounds(poly.getBounds().pad(1.5), { animate: false, maxZoom: MAX_MAP_ZOOM - 1 });
    emitAppEvent('change-focused');
  }, [maps, drawn, focused, mode]);

  const cell = { flex: 1, minHeight: 0, position: 'relative' as const };
  return (
    <div style={{ display: 'flex', gap: 4, flex: 1, minHeight: 0 }}>
      {maps && <WorldLayers key="a" map={maps.left} />}
      {maps?.right && <WorldLayers key="b" map={maps.right} />}
      <div style={cell}>
        <div ref={leftEl} data-testid="compare-map-a" style={{ position: 'absolute', inset: 0 }} />
        <span style={badge}>
          {mode === 'blink' ? (showingB ? `B · ${b.name}` : `A · ${a.name}`) : mode === 'swipe' ? `A · ${a.name} | B · ${b.name}` : `A · ${a.name}`}
        </span>
        {mode === 'swipe' && <div aria-hidden="true" style={{ ...divider, left: `${swipe * 100}%` }} />}
      </div>
      {mode === 'side' && (
        <div style={cell}>
          <div ref={rightEl} data-testid="compare-map-b" style={{ position: 'absolute', inset: 0 }} />
          <span style={badge}>B · {b.name}</span>
        </div>
      )}
    </div>
  );
}

const divider = {
  position: 'absolute' as const,
  top: 0,
  bottom: 0,
  width: 2,
  marginLeft: -1,
  background: '#fff',
  boxShadow: '0 0 3px #000',
  zIndex: 900,
  pointerEvents: 'none' as const,
};

const badge = {
  position: 'absolute' as const,
  top: 6,
  right: 6,
  zIndex: 1000,
  background: 'rgba(0,0,0,0.65)',
  color: '#fff',
  padding: '2px 6px',
  borderRadius: 3,
  fontSize: 12,
  pointerEvents: 'none' as const,
};
