import L from 'leaflet';
import { useEffect, useRef } from 'react';
import { displayVersion } from '../../../../main/contract/imageDisplay.js';
import { emitAppEvent } from '../../appEvents.js';
import { MAX_MAP_ZOOM } from '../../map/imageProjection.js';
import { basemapStore, basemapTileUrl } from '../../stores/basemapStore.js';
import { caseStore, setCaseError, type CaseImage } from '../../stores/caseStore.js';
import { useStore } from '../../stores/createStore.js';
import { displayStore, imageTileUrl, setSwipe } from '../../stores/displayStore.js';
import { openDroppedFile } from '../../stores/dropStore.js';
import { shownImages } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';
import { SwipeDivider } from './SwipeDivider.js';

const MAX_OVERZOOM = 6;

/**
 * Extra pixels each tile carries on its right and bottom (the next tiles' own pixels, at the same spacing) and is
 * drawn larger by: at fractional zoom levels Leaflet scales the tiles, their edges fall between screen pixels and
 * are antialiased, and the map showed through as 1-px seams; overlapping by real pixels covers those edges without
 * moving any pixel (a tile stretched by a pixel would shift its content).
 */
export const TILE_PAD = 2;

/** Tiles come from the contract's imagery.tile resource; `v` (the display version) keeps browser caches honest. */
class ImageTileLayer extends L.TileLayer {
  private readonly imageId: string;
  private readonly version: string;
  constructor(imageId: string, version: string, options: L.TileLayerOptions) {
    super('', options);
    this.imageId = imageId;
    this.version = version;
    // Leaflet sizes each tile to tileSize before this event: the padded image is drawn at its own size
    this.on('tileloadstart', (e: L.TileEvent) => {
      const size = this.getTileSize();
      e.tile.style.width = `${size.x + TILE_PAD}px`;
      e.tile.style.height = `${size.y + TILE_PAD}px`;
    });
  }
  override getTileUrl(coords: L.Coords): string {
    return imageTileUrl(this.imageId, coords, this.version, TILE_PAD);
  }
}

/** Dropping an image file on the map opens it (dropStore says how: by reference, or uploaded in a browser). */
function useDropToOpen(map: L.Map): void {
  useEffect(() => {
    const el = map.getContainer();
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // without this the browser navigates to the dropped file
      e.dataTransfer!.dropEffect = 'copy';
      el.classList.add('map-drop-target');
    };
    const leave = () => el.classList.remove('map-drop-target');
    const drop = (e: DragEvent) => {
      el.classList.remove('map-drop-target');
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      void openDroppedFile(file);
    };
    el.addEventListener('dragover', over);
    el.addEventListener('dragleave', leave);
    el.addEventListener('drop', drop);
    return () => {
      el.removeEventListener('dragover', over);
      el.removeEventListener('dragleave', leave);
      el.removeEventListener('drop', drop);
    };
  }, [map]);
}

/** The offline MBTiles basemap under all imagery, when the user has set one. */
function useBasemap(map: L.Map): void {
  const info = useStore(basemapStore, (s) => s.info);
  useEffect(() => {
    if (!info) return;
    const layer = new BasemapTileLayer(info.name, {
      tileSize: 256,
      minNativeZoom: info.minZoom,
      maxNativeZoom: info.maxZoom,
      zIndex: 1,
      className: 'vantage-basemap-layer',
      ...(info.bounds ? { bounds: L.latLngBounds([info.bounds[1], info.bounds[0]], [info.bounds[3], info.bounds[2]]) } : {}),
      ...(info.attribution ? { attribution: info.attribution } : {}),
    });
    layer.addTo(map);
    return () => {
      layer.remove();
    };
  }, [map, info]);
}

class BasemapTileLayer extends L.TileLayer {
  constructor(
    private readonly name: string,
    options: L.TileLayerOptions,
  ) {
    super('', options);
  }
  override getTileUrl(coords: L.Coords): string {
    return basemapTileUrl(this.name, coords);
  }
}

export function ImageLayers({ map }: { map: L.Map }) {
  useDropToOpen(map);
  useBasemap(map);
  const images = useStore(caseStore, (s) => s.images);
  const hidden = useStore(caseStore, (s) => s.hiddenImageIds);
  const activeId = useStore(caseStore, (s) => s.activeImageId);
  const swipe = useStore(displayStore, (s) => s.swipe);
  const shown = shownImages({ ...caseStore.get(), images, hiddenImageIds: hidden, activeImageId: activeId });
  const swipeShown = swipe && shown.some((i) => i.id === swipe.imageId) && shown.length > 1 ? swipe : null;
  // the layer list's order is the stack order (last on top); the active image is not lifted above the others
  return (
    <>
      {shown.map((img, i) => (
        <ImageLayer key={img.id} map={map} image={img} zIndex={10 + i} clipLeftOf={swipeShown?.imageId === img.id ? swipeShown.position : null} />
      ))}
      {swipeShown && <SwipeDivider position={swipeShown.position} onMove={(position) => setSwipe({ imageId: swipeShown.imageId, position })} />}
    </>
  );
}

function ImageLayer({ map, image, zIndex, clipLeftOf }: { map: L.Map; image: CaseImage; zIndex: number; clipLeftOf: number | null }) {
  const layerRef = useRef<ImageTileLayer | null>(null);
  const zRef = useRef(zIndex);
  zRef.current = zIndex;
  const display = useStore(displayStore, (s) => s.displays[image.id]);
  const opacity = useStore(displayStore, (s) => s.layers[image.id]?.opacity ?? 1);
  // the SAR scale the analyst states changes the tiles but not the display: it is part of the tiles' version
  const sarScale = useStore(displayStore, (s) => s.sources[image.id]?.calibration?.sarScale ?? null);
  const version = display ? `${displayVersion(display)}${sarScale ? `-${sarScale}` : ''}` : undefined;
  const opacityRef = useRef(opacity);
  opacityRef.current = opacity;
  // a new display is a new layer: Leaflet's redraw() mid-animation asks for fractional zoom tiles
  useEffect(() => {
    if (!version) return; // the display arrives with imagery.info; tiles wait for it so none is fetched twice
    const proj = projectionOf(image);
    const layer = new ImageTileLayer(image.id, version, {
      tileSize: 256,
      noWrap: true,
      bounds: L.latLngBounds(proj.bounds),
      minNativeZoom: 0,
      maxNativeZoom: proj.maxNativeZoom,
      // past 64× magnification an image says nothing more, and giant scaled tiles strain the compositor
      maxZoom: Math.min(MAX_MAP_ZOOM, proj.maxNativeZoom + MAX_OVERZOOM),
      minZoom: proj.placement === 'pixel' ? -6 : 0,
      className: 'vantage-image-layer',
      keepBuffer: 2,
      zIndex: zRef.current,
      opacity: opacityRef.current,
    });
    layerRef.current = layer;
    layer.once('load', () => emitAppEvent('tiles-loaded'));
    layer.on('tileerror', () => setCaseError(`some tiles of ${image.name} could not be loaded`));
    layer.addTo(map);
    layer.getContainer()?.setAttribute('data-image-id', image.id); // which image a map layer shows (tests, devtools)
    return () => {
      layerRef.current = null;
      layer.remove();
    };
  }, [map, image, version]);
  useEffect(() => {
    layerRef.current?.setZIndex(zIndex);
  }, [zIndex]);
  useEffect(() => {
    layerRef.current?.setOpacity(opacity);
  }, [opacity]);
  useEffect(() => {
    const layer = layerRef.current;
    if (!layer) return;
    const el = layer.getContainer();
    if (!el) return;
    if (clipLeftOf === null) {
      el.style.clipPath = '';
      return;
    }
    // the layer container lives in layer coordinates (the map pane is translated while panning): clip there
    const update = () => {
      const size = map.getSize();
      const tl = map.containerPointToLayerPoint([0, 0]);
      const br = map.containerPointToLayerPoint([size.x * clipLeftOf, size.y]);
      el.style.clipPath = `polygon(${tl.x}px ${tl.y}px, ${br.x}px ${tl.y}px, ${br.x}px ${br.y}px, ${tl.x}px ${br.y}px)`;
    };
    update();
    map.on('move zoom resize zoomend', update);
    return () => {
      map.off('move zoom resize zoomend', update);
      el.style.clipPath = '';
    };
  }, [map, clipLeftOf, image, version]);
  return null;
}
