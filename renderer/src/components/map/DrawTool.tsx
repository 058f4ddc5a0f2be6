import L from 'leaflet';
import { useEffect } from 'react';
import type { LatLngTuple } from '../../map/imageProjection.js';
import { regionShape, toRegionGeometry, type Drawn } from '../../map/regionGeometry.js';
import { activeImage, caseStore } from '../../stores/caseStore.js';
import { useStore } from '../../stores/createStore.js';
import { addPendingRegion, mapStore, setTool } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { visibleSpanPx } from '../../map/viewSpan.js';
import { regionLayer } from './vectorLayer.js';

/**
 * The drawing tools. Map dragging and double-click zoom are off while a tool is active, so a drag draws instead
 * of panning; everything is converted to image pixels of the active image the moment it is drawn.
 */
export function DrawTool({ map }: { map: L.Map }) {
  const tool = useStore(mapStore, (s) => s.tool);
  const imageId = useStore(caseStore, (s) => s.activeImageId);

  useEffect(() => {
    const img = activeImage();
    if (!tool || !img) return;
    const proj = projectionOf(img);
    const preview = L.layerGroup().addTo(map);
    const dragging = map.dragging.enabled();
    const dblZoom = map.doubleClickZoom.enabled();
    map.dragging.disable();
    map.doubleClickZoom.disable();

    const at = (e: L.LeafletMouseEvent): LatLngTuple => [e.latlng.lat, e.latlng.lng];
    let start: LatLngTuple | null = null;
    let points: LatLngTuple[] = [];

    const collected = (cursor: LatLngTuple | null): Drawn | null => {
      switch (tool) {
        case 'point':
          return null;
        case 'box':
          return start && cursor ? { kind: 'box', from: start, to: cursor } : null;
        case 'circle':
          return start && cursor ? { kind: 'circle', centre: start, edge: cursor } : null;
        case 'scribble':
          return { kind: 'scribble', points };
        case 'polygon':
          return { kind: 'polygon', points: cursor ? [...points, cursor] : points };
      }
    };
    const showPreview = (cursor: LatLngTuple | null) => {
      preview.clearLayers();
      const d = collected(cursor);
      const g = d && toRegionGeometry(d, proj);
      if (g) regionLayer(regionShape(g, proj), 'vantage-region vantage-region-preview').addTo(preview);
      else if (points.length > 0) {
        L.polyline(cursor ? [...points, cursor] : points, { className: 'vantage-region vantage-region-preview', weight: 2, interactive: false }).addTo(preview);
      }
    };
    const commit = (d: Drawn | null) => {
      preview.clearLayers();
      const g = d && toRegionGeometry(d, proj);
      // the zoom it was drawn at sizes its instant-mask tile to what the analyst sees
      if (g) addPendingRegion(g, visibleSpanPx(map, proj));
    };
    const reset = () => {
      start = null;
      points = [];
      preview.clearLayers();
    };

    const dragTool = tool === 'box' || tool === 'circle' || tool === 'scribble';
    let lastCursor: LatLngTuple | null = null;
    const onDown = (e: L.LeafletMouseEvent) => {
      if (!dragTool || e.originalEvent.button !== 0) return;
      L.DomEvent.preventDefault(e.originalEvent);
      start = at(e);
      lastCursor = start;
      points = [start];
    };
    const onMove = (e: L.LeafletMouseEvent) => {
      const c = at(e);
      if (dragTool && start) {
        lastCursor = c;
        if (tool === 'scribble') points.push(c);
        showPreview(c);
      } else if (tool === 'polygon' && points.length > 0) {
        showPreview(c);
      }
    };
    const onUp = () => {
      if (!dragTool || !start) return;
      commit(collected(lastCursor));
      reset();
    };
    const onClick = (e: L.LeafletMouseEvent) => {
      if (tool === 'point') commit({ kind: 'point', at: at(e) });
      else if (tool === 'polygon') {
        // the second click of a double-click closes the polygon (its first click already added the vertex)
        if (e.originalEvent.detail >= 2) return onDblClick(e);
        points.push(at(e));
        showPreview(null);
      }
    };
    const onDblClick = (e: L.LeafletMouseEvent) => {
      if (tool !== 'polygon' || points.length === 0) return;
      L.DomEvent.stop(e.originalEvent);
      commit({ kind: 'polygon', points });
      reset();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      if (start || points.length) reset();
      else setTool(null);
    };

    map.on('mousedown', onDown);
    map.on('mousemove', onMove);
    map.on('mouseup', onUp);
    map.on('click', onClick);
    map.on('dblclick', onDblClick);
    // a drag released outside the map still ends the shape
    window.addEventListener('mouseup', onUp);
    window.addEventListener('keydown', onKey);
    return () => {
      map.off('mousedown', onDown);
      map.off('mousemove', onMove);
      map.off('mouseup', onUp);
      map.off('click', onClick);
      map.off('dblclick', onDblClick);
      window.removeEventListener('mouseup', onUp);
      window.removeEventListener('keydown', onKey);
      preview.remove();
      if (dragging) map.dragging.enable();
      if (dblZoom) map.doubleClickZoom.enable();
    };
  }, [map, tool, imageId]);
  return null;
}
