import { batchMaskStore, cancelBatch, dismissBatch, promptsFromFile } from '../stores/batchMaskStore.js';
import { caseStore, setCaseError } from '../stores/caseStore.js';
import { useStore } from '../stores/createStore.js';
import { chooseImage, clearPendingRegions, mapStore, setTool, type Tool } from '../stores/mapStore.js';
import { CompareLauncher } from './ComparePanel.js';

const TOOLS: { tool: Tool; label: string; glyph: string }[] = [
  { tool: 'point', label: 'Point', glyph: '•' },
  { tool: 'box', label: 'Box', glyph: '▭' },
  { tool: 'circle', label: 'Circle', glyph: '◯' },
  { tool: 'polygon', label: 'Polygon', glyph: '⬠' },
  { tool: 'scribble', label: 'Scribble', glyph: '∿' },
];

export function Toolbar() {
  const tool = useStore(mapStore, (s) => s.tool);
  const hasImage = useStore(caseStore, (s) => s.activeImageId !== null);
  const pending = useStore(mapStore, (s) => s.pending.length);
  const busy = useStore(caseStore, (s) => s.busy);
  const error = useStore(caseStore, (s) => s.error);
  const batch = useStore(batchMaskStore, (s) => s);
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
      <button
        type="button"
        data-testid="prompts-from-file"
        title="An instant mask for every point / polygon of a GeoJSON file (WGS84 or the image's EPSG)"
        disabled={!hasImage || batch.running}
        onClick={() => void promptsFromFile()}
      >
        Prompts from file…
      </button>
      {batch.running && (
        <span className="toolbar-batch" role="status" data-testid="batch-progress">
          Masks {batch.done}/{batch.total || '…'}
          <progress max={batch.total || 1} value={batch.done} aria-label="Batch prompts progress" />
          <button type="button" className="danger" data-testid="batch-cancel" onClick={cancelBatch}>
            Cancel
          </button>
        </span>
      )}
      {!batch.running && (batch.summary || batch.error) && (
        <span className={batch.error ? 'toolbar-error' : 'toolbar-batch'} role={batch.error ? 'alert' : 'status'} data-testid="batch-summary">
          {batch.error ?? batch.summary}
          <button type="button" className="link" aria-label="Dismiss" onClick={dismissBatch}>
            ×
          </button>
        </span>
      )}
      <span className="toolbar-sep" aria-hidden="true" />
      <CompareLauncher />
      {error && (
        <span className="toolbar-error" role="alert" data-testid="map-error">
          {error}
          <button type="button" className="link" aria-label="Dismiss" onClick={() => setCaseError(null)}>
            ×
          </button>
        </span>
      )}
    </div>
  );
}
