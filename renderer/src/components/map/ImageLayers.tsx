import L from 'leaflet';
import { useEffect, useRef } from 'react';
import { emitAppEvent } from '../../appEvents.js';
import { MAX_MAP_ZOOM } from '../../map/imageProjection.js';
import { client } from '../../stores/clientRef.js';
import { useStore } from '../../stores/createStore.js';
import { mapStore, shownImages, type MapImage } from '../../stores/mapStore.js';
import { projectionOf } from '../../stores/projections.js';

const MAX_OVERZOOM = 6;

/** Tiles come from the contract's imagery.tile resource, whichever transport is in use. */
class ImageTileLayer extends L.TileLayer {
  private readonly imageId: string;
  constructor(imageId: string, options: L.TileLayerOptions) {
    super('', options);
    this.imageId = imageId;
  }
  override getTileUrl(coords: L.Coords): string {
    return client().resourceUrl('imagery.tile', { imageId: this.imageId, z: coords.z, x: coords.x, y: coords.y });
  }
}

export function ImageLayers({ map }: { map: L.Map }) {
  const images = useStore(mapStore, (s) => s.images);
  const hidden = useStore(mapStore, (s) => s.hiddenImageIds);
  const activeId = useStore(mapStore, (s) => s.activeImageId);
  const shown = shownImages({ ...mapStore.get(), images, hiddenImageIds: hidden, activeImageId: activeId });
  return (
    <>
      {shown.map((img, i) => (
        <ImageLayer key={img.id} map={map} image={img} zIndex={img.id === activeId ? 100 : 10 + i} />
      ))}
    </>
  );
}

function ImageLayer({ map, image, zIndex }: { map: L.Map; image: MapImage; zIndex: number }) {
  const layerRef = useRef<ImageTileLayer | null>(null);
  const zRef = useRef(zIndex);
  zRef.current = zIndex;
  useEffect(() => {
    const proj = projectionOf(image);
    const layer = new ImageTileLayer(image.id, {
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
    });
    layerRef.current = layer;
    layer.once('load', () => emitAppEvent('tiles-loaded'));
    layer.on('tileerror', () => mapStore.set({ error: `some tiles of ${image.name} could not be loaded` }));
    layer.addTo(map);
    return () => {
      layerRef.current = null;
      layer.remove();
    };
  }, [map, image]);
  useEffect(() => {
    layerRef.current?.setZIndex(zIndex);
  }, [zIndex]);
  return null;
}
