import { caseStore } from '../stores/caseStore.js';
import { useStore } from '../stores/createStore.js';
import { cursorStore } from '../stores/mapStore.js';
import { gpuSummary, modelStore, providerInUse, providerReport } from '../stores/modelStore.js';

export function StatusBar() {
  const model = useStore(modelStore, (s) => s.model);
  const modelError = useStore(modelStore, (s) => s.error);
  const cursor = useStore(cursorStore, (s) => s.cursor);
  const placement = useStore(caseStore, (s) => s.images.find((i) => i.id === s.activeImageId)?.georeferenced);
  const provider = providerInUse(model);
  const state = model?.state ?? 'unknown';
  return (
    <footer className="status-bar" data-testid="status-bar">
      <span className={`status-dot state-${state}`} aria-hidden="true" />
      <span data-testid="status-model" data-state={state} title={model?.error ?? modelError ?? undefined}>
        model: {state}
      </span>
      <span data-testid="status-pack">{model?.pack ? `${model.pack.name} ${model.pack.version}` : 'no pack'}</span>
      <span data-testid="status-provider" title={providerReport(model) || undefined}>
        {provider ?? '—'}
      </span>
      {model && Object.keys(model.stageProviders).length > 0 && (
        <span className="status-stages" data-testid="status-stages" title={providerReport(model)}>
          {stageSummary(model.stageProviders)}
          {model.providers.some((p) => !p.available) && ` · GPU: ${gpuSummary(model.providers.find((p) => p.name === 'cuda')?.reason)}`}
        </span>
      )}
      <span className="status-spacer" />
      <span data-testid="status-cursor">
        {cursor
          ? placement
            ? `lon ${cursor.lng.toFixed(6)}  lat ${cursor.lat.toFixed(6)}`
            : 'pixel space'
          : ''}
      </span>
      <span data-testid="status-pixel">
        {cursor?.px ? `x ${Math.floor(cursor.px[0])}  y ${Math.floor(cursor.px[1])}` : ''}
      </span>
    </footer>
  );
}

/** "vision,prompt…: cpu" grouped by provider, so a mixed GPU/CPU split reads at a glance. */
function stageSummary(stageProviders: Record<string, string>): string {
  const byProvider = new Map<string, string[]>();
  for (const [stage, p] of Object.entries(stageProviders)) byProvider.set(p, [...(byProvider.get(p) ?? []), stage]);
  return [...byProvider].map(([p, stages]) => `${stages.join(',')}: ${p}`).join('  ');
}
