import { regionLabelText } from '../map/regionLabel.js';
import type { CaseTurn } from '../stores/caseStore.js';
import { AssistantText } from './AssistantText.js';

export function TurnItem({ turn }: { turn: CaseTurn }) {
  if (turn.role === 'user') {
    return (
      <li className="turn turn-user" data-testid="turn-user" data-saved={turn.saved ? 'true' : 'false'}>
        <div className="turn-text">{turn.text}</div>
        <div className="turn-meta">
          {turn.regionLabels.map((l) => (
            <span key={l} className="region-tag">{regionLabelText(l)}</span>
          ))}
          <span className={`saved-mark${turn.saved ? ' saved' : ''}`} aria-label={turn.saved ? 'saved' : 'sending'}>
            {turn.saved ? '✓ saved' : 'sending…'}
          </span>
        </div>
      </li>
    );
  }
  return (
    <li className="turn turn-assistant" data-testid="turn-assistant" data-status={turn.status}>
      <AssistantText turnId={turn.id} text={turn.text} />
      {turn.status === 'streaming' && turn.text === '' && <span className="thinking">thinking…</span>}
      {turn.error && (
        <p className="inline-error" role="alert" data-testid="turn-error">
          {turn.error}
        </p>
      )}
      <div className="turn-meta">
        {turn.status === 'cancelled' && <span>stopped</span>}
        {turn.status === 'failed' && <span>failed</span>}
        {turn.provider && <span>{turn.provider}</span>}
        {turn.durationMs !== null && <span>{(turn.durationMs / 1000).toFixed(1)} s</span>}
      </div>
    </li>
  );
}
