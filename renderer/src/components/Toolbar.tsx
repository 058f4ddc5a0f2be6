import { useStore } from '../stores/createStore.js';
import { CompareLauncher } from './ComparePanel.js';
import { chooseImage } from '../stores/fileBrowserStore.js';
import { clearPendingRegions, mapStore, setTool, type Tool } from '../stores/mapStore.js';

const TOOLS: { tool: Tool; label: string; glyph: string }[] = [
  { tool: 'point', label: 'Point', glyph: '•' },
  { tool: 'box', label: 'Box', glyph: '▭' },
  { tool: 'circle', label: 'Circle', glyph: '◯' },
  { tool: 'polygon', label: 'Polygon', glyph: '⬠' },
  { tool: 'scribble', label: 'Scribble', glyph: '∿' },
];

export function Toolbar() {
  const tool = useStore(mapStore, (s) => s.tool);
  const hasImage = useStore(mapStore, (s) => s.activeImageId !== null);
  const pending = useStore(mapStore, (s) => s.pending.length);
  const busy = useStore(mapStore, (s) => s.busy);
  const error = useStore(mapStore, (s) => s.error);
  return (
    <div className="toolbar" role="toolbar" aria-label="Map tools">
      <button type="button" className="primary" data-testid="open-image" onClick={() => void chooseImage()} disabled={busy}>
        {busy ? 'Opening…' : 'Open image'}
      </button>
      <span className="toolbar-sep" aria-hidden="true" />
      {TOOLS.map((t) => (
        <button
          key={t.tool}
          type="button"
          className={`tool${tool === t.tool ? ' active' : ''}`}
          data-testid={`tool-${t.tool}`}
          aria-label={`Draw ${t.label.toLowerCase()} region`}
          aria-pressed={tool === t.tool}
          title={`${t.label} (Esc to stop)`}
          disabled={!hasImage}
          onClick={() => setTool(t.tool)}
        >
          <span aria-hidden="true">{t.glyph}</span> {t.label}
        </button>
      ))}
      <button
        type="button"
        data-testid="clear-regions"
        aria-label="Clear drawn regions"
        disabled={pending === 0}
        onClick={clearPendingRegions}
      >
        Clear regions{pending ? ` (${pending})` : ''}
      </button>
      <span className="toolbar-sep" aria-hidden="true" />
      <CompareLauncher />
      {error && (
        <span className="toolbar-error" role="alert" data-testid="map-error">
          {error}
          <button type="button" className="link" aria-label="Dismiss" onClick={() => mapStore.set({ error: null })}>
            ×
          </button>
        </span>
      )}
    </div>
  );
}
