import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import { MAX_MAP_ZOOM, type Placement } from '../../map/imageProjection.js';
import { useStore } from '../../stores/createStore.js';
import { caseStore } from '../../stores/caseStore.js';
import { mapPlacement, mapStore } from '../../stores/mapStore.js';
import { CursorTracker } from './CursorTracker.js';
import { DrawTool } from './DrawTool.js';
import { ImageLayers } from './ImageLayers.js';
import { InstantMaskLayer } from './InstantMaskLayer.js';
import { MaskLayers } from './MaskLayers.js';
import { RegionLayers } from './RegionLayers.js';
import { ViewSync } from './ViewSync.js';
import { WorldLayers } from './WorldLayers.js';

/** Leaflet cannot switch CRS on a live map: a pixel-space image gets its own map instance (keyed by placement). */
export function MapPane() {
  const placement = useStore(caseStore, mapPlacement);
  return <MapCanvas key={placement} placement={placement} />;
}

function MapCanvas({ placement }: { placement: Placement }) {
  const el = useRef<HTMLDivElement>(null);
  const [map, setMap] = useState<L.Map | null>(null);
  const tool = useStore(mapStore, (s) => s.tool);

  useEffect(() => {
    const m = L.map(el.current!, {
      crs: placement === 'pixel' ? L.CRS.Simple : L.CRS.EPSG3857,
      attributionControl: false,
      zoomControl: true,
      boxZoom: false,
      minZoom: placement === 'pixel' ? -6 : 1,
      maxZoom: MAX_MAP_ZOOM,
      zoomSnap: 0.25,
      zoomDelta: 0.5,
      wheelPxPerZoomLevel: 90,
    });
    m.setView([0, 0], placement === 'pixel' ? 0 : 2);
    setMap(m);
    return () => {
      setMap(null);
      m.remove();
    };
  }, [placement]);

  return (
    // Leaflet adds its own classes to the map element: React must never rewrite that element's className
    <div className={`map-wrap${tool ? ' map-drawing' : ''}`}>
      <div
        ref={el}
        className="map"
        data-testid="map"
        data-placement={placement}
        role="application"
        aria-label="Map"
      />
      {map && (
        <>
          <ViewSync map={map} />
          <WorldLayers map={map} />
          <ImageLayers map={map} />
          <RegionLayers map={map} />
          <MaskLayers map={map} />
          <InstantMaskLayer map={map} />
          <DrawTool map={map} />
          <CursorTracker map={map} />
        </>
      )}
    </div>
  );
}
