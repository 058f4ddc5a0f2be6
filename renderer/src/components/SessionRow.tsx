import { useState } from 'react';
import type { SessionSummary } from '../../../main/contract/schemas.js';
import { deleteSession, duplicateSession, exportCase, openSession, renameSession } from '../stores/sessionStore.js';

/** One case in the list: click to open; rename in place (✎ or double-click; Enter saves, Escape cancels); ⧉; ✕. */
export function SessionRow({ session: s, current }: { session: SessionSummary; current: boolean }) {
  const [editing, setEditing] = useState<string | null>(null);
  const save = () => {
    const name = editing;
    setEditing(null);
    if (name !== null && name.trim() && name.trim() !== s.name) void renameSession(s.id, name);
  };
  return (
    <li className="session-row" data-testid="session-row" data-session-id={s.id}>
      {editing !== null ? (
        <input
          className="session-rename"
          data-testid="session-rename-input"
          aria-label={`New name for ${s.name}`}
          value={editing}
          autoFocus
          maxLength={200}
          onChange={(e) => setEditing(e.target.value)}
          onBlur={save}
          onKeyDown={(e) => {
            if (e.key === 'Enter') save();
            if (e.key === 'Escape') setEditing(null);
          }}
        />
      ) : (
        <button
          type="button"
          className={`list-item${current ? ' selected' : ''}`}
          data-testid="session-item"
          data-session-id={s.id}
          aria-current={current ? 'true' : undefined}
          onClick={() => !current && void openSession(s.id)}
          onDoubleClick={() => setEditing(s.name)}
        >
          <span className="item-name" title={s.name}>{s.name}</span>
          <span className="item-meta">
            {s.imageCount} img · {s.turnCount} turns · {s.updatedAt.slice(0, 10)}
          </span>
        </button>
      )}
      <span className="session-actions">
        <button type="button" className="icon-button" data-testid="session-rename" aria-label={`Rename ${s.name}`} title="Rename" onClick={() => setEditing(s.name)}>
          ✎
        </button>
        <button type="button" className="icon-button" data-testid="session-duplicate" aria-label={`Duplicate ${s.name}`} title="Duplicate" onClick={() => void duplicateSession(s.id)}>
          ⧉
        </button>
        <button type="button" className="icon-button" data-testid="session-export" aria-label={`Export ${s.name}`} title="Export as a .vantage file" onClick={() => void exportCase(s.id)}>
          ⇪
        </button>
        <button type="button" className="icon-button" data-testid="session-delete" aria-label={`Delete ${s.name}`} title="Delete (can be undone)" onClick={() => void deleteSession(s.id)}>
          ✕
        </button>
      </span>
    </li>
  );
}
