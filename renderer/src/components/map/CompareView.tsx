import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import type { ChangeResult } from '../../../../main/contract/calls/change.js';
import { emitAppEvent } from '../../appEvents.js';
import { MAX_MAP_ZOOM } from '../../map/imageProjection.js';
import type { CaseImage } from '../../stores/caseStore.js';
import { imageTileUrl } from '../../stores/displayStore.js';
import { projectionOf } from '../../stores/projections.js';
import { WorldLayers } from './WorldLayers.js';

/** Tiles of one image from the contract's imagery.tile resource. */
class CompareTileLayer extends L.TileLayer {
  constructor(private readonly imageId: string, options: L.TileLayerOptions) {
    super('', options);
  }
  override getTileUrl(coords: L.Coords): string {
    return imageTileUrl(this.imageId, coords);
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
    noWrap: true,
    bounds: L.latLngBounds(p.bounds),
    maxNativeZoom: p.maxNativeZoom,
    maxZoom: MAX_MAP_ZOOM,
    minZoom: p.placement === 'pixel' ? -6 : 0,
  });
}

/** Change polygons (image A pixels) drawn through A's projection. */
function changeLayer(a: CaseImage, result: ChangeResult | null): L.LayerGroup {
  const g = L.layerGroup();
  if (!result) return g;
  const p = projectionOf(a);
  for (const c of result.polygons) {
    L.polygon(
      c.polygon.map((ring) => ring.map((v) => p.toLatLng(v as [number, number]))),
      { color: '#ff3b30', weight: 1.5, fillOpacity: 0.15, className: 'change-polygon' },
    )
      .bindTooltip(c.areaM2 !== null ? `${c.areaM2.toFixed(0)} m²` : `${c.areaPx.toFixed(0)} px`)
      .addTo(g);
  }
  return g;
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
    return () => {
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

  useEffect(() => {
    if (!maps) return;
    const layers = [maps.left, maps.right].filter((m): m is L.Map => m !== null).map((m) => changeLayer(a, result).addTo(m));
    return () => layers.forEach((l) => l.remove());
  }, [maps, a, result]);

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
