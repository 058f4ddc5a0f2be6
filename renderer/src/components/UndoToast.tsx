import { useEffect } from 'react';
import { useStore } from '../stores/createStore.js';
import { dismissUndo, sessionStore, undoDelete } from '../stores/sessionStore.js';

/** How long the Undo offer stays on screen; the case itself stays restorable for 30 days (sessions.restore). */
const UNDO_VISIBLE_MS = 15_000;

export function UndoToast() {
  const undo = useStore(sessionStore, (s) => s.undo);
  useEffect(() => {
    if (!undo) return;
    const t = setTimeout(dismissUndo, UNDO_VISIBLE_MS);
    return () => clearTimeout(t);
  }, [undo]);
  if (!undo) return null;
  return (
    <div className="toast" role="status" data-testid="undo-toast">
      <span>Deleted “{undo.name}”.</span>
      <button type="button" data-testid="undo-delete" onClick={() => void undoDelete()}>
        Undo
      </button>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={dismissUndo}>
        ×
      </button>
    </div>
  );
}
