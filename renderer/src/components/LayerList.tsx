import { useStore } from '../stores/createStore.js';
import { mapStore, setActiveImage, toggleImageVisible } from '../stores/mapStore.js';
import { projectionOf } from '../stores/projections.js';

export function LayerList() {
  const images = useStore(mapStore, (s) => s.images);
  const activeId = useStore(mapStore, (s) => s.activeImageId);
  const hidden = useStore(mapStore, (s) => s.hiddenImageIds);
  return (
    <section className="panel-section" aria-labelledby="layers-heading">
      <header className="section-header">
        <h2 id="layers-heading">Layers</h2>
      </header>
      {images.length === 0 && <p className="muted">No imagery yet. Use “Open image”.</p>}
      <ul className="item-list" data-testid="layer-list">
        {[...images].reverse().map((img) => (
          <li key={img.id} className={`layer-row${img.id === activeId ? ' selected' : ''}`} data-testid="layer-item" data-image-id={img.id}>
            <input
              type="checkbox"
              aria-label={`Show ${img.name}`}
              checked={!hidden.includes(img.id)}
              disabled={img.missing}
              onChange={() => toggleImageVisible(img.id)}
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
                  : `${img.width}×${img.height} · ${img.source}${projectionOf(img).placement === 'pixel' ? ' · pixel space' : ''}`}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
