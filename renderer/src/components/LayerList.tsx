import { basemapStore, chooseBasemap, clearBasemap, dismissBasemapNotice } from '../stores/basemapStore.js';
import { activeImage, caseStore, toggleImageVisible } from '../stores/caseStore.js';
import { useStore } from '../stores/createStore.js';
import { displayStore, moveLayer, setLayer, setSwipe } from '../stores/displayStore.js';
import { dropStore } from '../stores/dropStore.js';
import { setActiveImage } from '../stores/mapStore.js';
import { projectionOf } from '../stores/projections.js';
import { setWorldLayer, worldStore, type WorldState } from '../stores/worldStore.js';
import { DisplayPanel } from './DisplayPanel.js';
import { PixelInspector } from './PixelInspector.js';
import { PLACES_ATTRIBUTION } from './map/places.js';
import { WORLD_ATTRIBUTION } from './map/worldScale.js';

/** The case's images as a layer stack (top first): visibility, order, opacity, swipe; then the active image's display. */
export function LayerList() {
  const images = useStore(caseStore, (s) => s.images);
  const activeId = useStore(caseStore, (s) => s.activeImageId);
  const hidden = useStore(caseStore, (s) => s.hiddenImageIds);
  const layers = useStore(displayStore, (s) => s.layers);
  const swipe = useStore(displayStore, (s) => s.swipe);
  const overviews = useStore(displayStore, (s) => s.overviews);
  // the source kind the imagery service decided (or the analyst chose), as the Display panel shows it
  const sources = useStore(displayStore, (s) => s.sources);
  const drop = useStore(dropStore, (s) => s);
  const basemap = useStore(basemapStore, (s) => s);
  const active = useStore(caseStore, (s) => activeImage(s));
  return (
    <section className="panel-section" aria-labelledby="layers-heading">
      <header className="section-header">
        <h2 id="layers-heading">Layers</h2>
      </header>
      {images.length === 0 && <p className="muted">No imagery yet. Use “Open image” or drop an image file on the map.</p>}
      <div className="basemap-row" data-testid="basemap">
        <button
          type="button"
          data-testid="basemap-choose"
          disabled={basemap.busy}
          title="An offline basemap from an MBTiles file (raster tiles), drawn under the imagery; remembered across restarts"
          onClick={() => void chooseBasemap()}
        >
          {basemap.busy ? 'Opening basemap…' : 'Basemap…'}
        </button>
        {basemap.info && (
          <>
            <span className="muted" data-testid="basemap-name">{basemap.info.name}</span>
            <button type="button" className="icon-button" aria-label="Remove the basemap" onClick={() => void clearBasemap()}>
              ✕
            </button>
          </>
        )}
        {basemap.error && <p className="error" role="alert">{basemap.error}</p>}
        {basemap.notice && (
          <p className="basemap-notice" role="status" data-testid="basemap-notice">
            <span>{basemap.notice}</span>
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={dismissBasemapNotice}>
              ×
            </button>
          </p>
        )}
      </div>
      <WorldToggles basemap={basemap.info !== null} />
      {drop.busy && <p className="muted" data-testid="drop-busy">Opening {drop.busy}…</p>}
      {drop.notice && <p className="muted" data-testid="drop-notice">{drop.notice}</p>}
      {drop.error && <p className="error" role="alert">{drop.error}</p>}
      <ul className="item-list" data-testid="layer-list">
        {[...images].reverse().map((img, k) => {
          const index = images.length - 1 - k;
          const opacity = layers[img.id]?.opacity ?? 1;
          return (
            <li key={img.id} className={`layer-row${img.id === activeId ? ' selected' : ''}`} data-testid="layer-item" data-image-id={img.id}>
              <div className="layer-main">
                <input
                  type="checkbox"
                  aria-label={`Show ${img.name}`}
                  checked={!hidden.includes(img.id)}
                  disabled={img.missing}
                  onChange={() => {
                    const visible = hidden.includes(img.id);
                    toggleImageVisible(img.id);
                    setLayer(img.id, { visible });
                  }}
                />
                <button
                  type="button"
                  className="layer-name"
                  onClick={() => setActiveImage(img.id)}
                  disabled={img.missing}
                  title={img.missing ? 'The file is no longer where it was opened from' : 'Make this the active image'}
                >
                  <span className="item-name">{img.name}</span>
                  <span className="item-meta">
                    {img.missing
                      ? 'missing'
                      : `${img.width}×${img.height} · ${sources[img.id]?.kind ?? img.source}${projectionOf(img).placement === 'pixel' ? ' · pixel space' : ''}`}
                  </span>
                </button>
                <span className="layer-order">
                  <button type="button" className="icon-button" aria-label={`Move ${img.name} up`} disabled={index === images.length - 1} onClick={() => moveLayer(img.id, 'up')}>
                    ▲
                  </button>
                  <button type="button" className="icon-button" aria-label={`Move ${img.name} down`} disabled={index === 0} onClick={() => moveLayer(img.id, 'down')}>
                    ▼
                  </button>
                </span>
              </div>
              {overviews[img.id]?.state === 'building' && (
                <div className="layer-overview" data-testid="overview-progress">
                  <progress max={1} value={overviews[img.id]!.progress} aria-label={`Building overviews of ${img.name}`} />
                  <span className="muted">Building overviews (first open) {Math.round(overviews[img.id]!.progress * 100)} %</span>
                </div>
              )}
              {overviews[img.id]?.state === 'failed' && <p className="muted">{overviews[img.id]!.message}</p>}
              {!img.missing && (
                <div className="layer-controls">
                  <input
                    type="range"
                    min={0}
                    max={1}
                    step={0.05}
                    value={opacity}
                    aria-label={`Opacity of ${img.name}`}
                    data-testid="layer-opacity"
                    onChange={(e) => setLayer(img.id, { opacity: Number(e.target.value) })}
                  />
                  <label title="Show this layer only left of a divider you can drag">
                    <input
                      type="checkbox"
                      data-testid="layer-swipe"
                      checked={swipe?.imageId === img.id}
                      disabled={images.length < 2}
                      onChange={(e) => setSwipe(e.target.checked ? { imageId: img.id, position: 0.5 } : null)}
                    />{' '}
                    swipe
                  </label>
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {active && !active.missing && (
        <>
          <h2 className="subheading">Display · {active.name}</h2>
          <DisplayPanel image={active} />
          <h2 className="subheading">Pixel</h2>
          <PixelInspector />
        </>
      )}
    </section>
  );
}

const WORLD_TOGGLES: { key: keyof WorldState; label: string; title: string }[] = [
  { key: 'world', label: 'World', title: `Land, coastlines and country borders: ${WORLD_ATTRIBUTION}` },
  { key: 'graticule', label: 'Graticule', title: 'Labelled latitude/longitude lines, spaced to the zoom' },
  { key: 'places', label: 'Places', title: `Names of towns and cities (more as you zoom in): ${PLACES_ATTRIBUTION}` },
  { key: 'scale', label: 'Scale', title: 'A metric scale bar' },
];

/** Offline world context on geographic maps (remembered in this browser profile); the user's basemap hides Natural Earth. */
function WorldToggles({ basemap }: { basemap: boolean }) {
  const world = useStore(worldStore, (s) => s);
  return (
    <div className="world-toggles" data-testid="world-toggles">
      {WORLD_TOGGLES.map((t) => (
        <label key={t.key} title={t.title}>
          <input type="checkbox" data-testid={`world-toggle-${t.key}`} checked={world[t.key]} onChange={(e) => setWorldLayer(t.key, e.target.checked)} />{' '}
          {t.label}
        </label>
      ))}
      {world.world && basemap && <span className="muted">Natural Earth hidden: your basemap is in use</span>}
    </div>
  );
}
