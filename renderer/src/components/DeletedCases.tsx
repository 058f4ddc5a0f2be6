import { useState } from 'react';
import { useStore } from '../stores/createStore.js';
import { purgeDeleted, restoreDeleted, sessionStore, toggleDeleted, type DeletedCase } from '../stores/sessionStore.js';

/** A date as the user reads it (local calendar day), e.g. 2026-11-23. */
function day(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "Recently deleted (N)": deleted cases stay restorable until their purge date; "Delete now" removes one for good. */
export function DeletedCases() {
  const deleted = useStore(sessionStore, (s) => s.deleted);
  const open = useStore(sessionStore, (s) => s.showDeleted);
  if (deleted.length === 0 && !open) return null;
  return (
    <div className="deleted-cases" data-testid="deleted-cases">
      <button type="button" className="link" aria-expanded={open} data-testid="deleted-toggle" onClick={toggleDeleted}>
        {open ? '▾' : '▸'} Recently deleted ({deleted.length})
      </button>
      {open && (
        <ul className="item-list" data-testid="deleted-list">
          {deleted.map((c) => (
            <DeletedRow key={c.id} c={c} />
          ))}
          {deleted.length === 0 && <li className="muted">No deleted cases.</li>}
        </ul>
      )}
    </div>
  );
}

function DeletedRow({ c }: { c: DeletedCase }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <li className="deleted-row" data-testid="deleted-row" data-session-id={c.id}>
      <span className="item-name">{c.name}</span>
      <span className="item-meta">
        {c.imageCount} img · {c.turnCount} turns
      </span>
      <span className="item-meta">
        deleted {day(c.deletedAt)} · purged on {day(c.purgeAfter)}
      </span>
      {confirming ? (
        <span className="deleted-confirm" role="group" aria-label={`Delete ${c.name} for good?`}>
          <button type="button" className="danger" data-testid="deleted-purge-confirm" onClick={() => void purgeDeleted(c.id)}>
            Delete forever
          </button>
          <button type="button" data-testid="deleted-purge-cancel" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      ) : (
        <span className="deleted-actions">
          <button type="button" data-testid="deleted-restore" aria-label={`Restore ${c.name}`} onClick={() => void restoreDeleted(c.id)}>
            Restore
          </button>
          <button type="button" data-testid="deleted-purge" aria-label={`Delete ${c.name} now`} title="Delete for good, without waiting for the purge date" onClick={() => setConfirming(true)}>
            Delete now
          </button>
        </span>
      )}
    </li>
  );
}
