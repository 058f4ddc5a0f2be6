import { caseStore, highlightMask } from '../stores/caseStore.js';
import { useStore } from '../stores/createStore.js';
import { focusMask } from '../stores/mapStore.js';
import { formatArea, reportStore, toggleSelected } from '../stores/reportStore.js';
import { objectOpacity, objectViewStore, setObjectOpacity, toggleObjectHidden } from '../stores/objectViewStore.js';
import { objectColour } from '../../../main/contract/objectStyle.js';

/**
 * The case's masks as measured objects: label, area, score, in the colour the map, the chat and the PDF give them.
 * Hover highlights the mask, click zooms to it; each can be hidden on the map or faded.
 */
export function ObjectList() {
  const objects = useStore(reportStore, (s) => s.objects);
  const loading = useStore(reportStore, (s) => s.loading);
  const selected = useStore(reportStore, (s) => s.selected);
  const masks = useStore(caseStore, (s) => s.masks);
  const focused = useStore(caseStore, (s) => s.focusedMaskId);
  const view = useStore(objectViewStore, (s) => s);

  return (
    <section className="object-list" aria-label="Objects" data-testid="object-list" aria-busy={loading}>
      <header className="section-header">
        <h2>Objects</h2>
        <span className="item-meta">{objects.length || ''}</span>
      </header>
      {objects.length === 0 && <p className="muted small">Masks from the answers appear here, measured.</p>}
      <ul className="item-list">
        {objects.map((o) => {
          const index = masks.findIndex((m) => m.id === o.maskId);
          const title = [
            o.perimeterM !== null ? `perimeter ${Math.round(o.perimeterM).toLocaleString('en-US')} m` : 'image has no georeferencing: pixel area',
            o.touchesEdge ? 'reaches the image edge: area is a lower bound' : '',
            o.problem ?? '',
          ].filter(Boolean).join(' · ');
          const hidden = view.hidden.includes(o.maskId);
          return (
            <li key={o.maskId} className="object-item">
              <input
                type="checkbox"
                aria-label={`export ${o.label}`}
                data-testid="object-select"
                checked={selected.includes(o.maskId)}
                onChange={() => toggleSelected(o.maskId)}
              />
              <button
                type="button"
                className={`list-item object-row${focused === o.maskId ? ' selected' : ''}`}
                data-testid="object-row"
                data-mask-id={o.maskId}
                title={title}
                onMouseEnter={() => highlightMask(o.maskId)}
                onMouseLeave={() => highlightMask(null)}
                onFocus={() => highlightMask(o.maskId)}
                onClick={() => focusMask(o.maskId)}
              >
                <span className="object-line">
                  <span className="swatch" data-testid="object-swatch" data-colour={index >= 0 ? objectColour(index) : ''} style={{ background: index >= 0 ? objectColour(index) : 'transparent' }} aria-hidden="true" />
                  <span className="item-name">{o.label}</span>
                  <span className="object-area" data-testid="object-area">{formatArea(o)}</span>
                </span>
                <span className="item-meta">
                  score {o.score.toFixed(2)} · answer {o.turnSeq}
                  {o.touchesEdge ? ' · at image edge' : ''}
                  {o.problem ? ' · cannot export' : ''}
                </span>
              </button>
              <span className="object-view">
                <button
                  type="button"
                  className="tool"
                  data-testid="object-visibility"
                  aria-pressed={!hidden}
                  aria-label={`${hidden ? 'show' : 'hide'} ${o.label} on the map`}
                  title={hidden ? 'show on the map' : 'hide on the map'}
                  onClick={() => toggleObjectHidden(o.maskId)}
                >
                  {hidden ? '◌' : '●'}
                </button>
                <input
                  type="range"
                  min={0}
                  max={100}
                  step={5}
                  data-testid="object-opacity"
                  aria-label={`opacity of ${o.label}`}
                  title="opacity on the map"
                  disabled={hidden}
                  value={Math.round(objectOpacity(view, o.maskId) * 100)}
                  onChange={(e) => setObjectOpacity(o.maskId, Number(e.target.value) / 100)}
                />
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
