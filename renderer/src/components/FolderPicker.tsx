import { useState, type FormEvent } from 'react';
import { useStore } from '../stores/createStore.js';
import { browseFolder, closeFolderPicker, pickShownFolder, reportStore } from '../stores/reportStore.js';

/** Folder chooser for exports in browser mode: the backend lists folders (purpose 'folder'); names and refs only. */
export function FolderPicker() {
  const { open, listing, error } = useStore(reportStore, (s) => s.picker);
  const [typed, setTyped] = useState('');
  if (!open) return null;
  const go = (e: FormEvent) => {
    e.preventDefault();
    if (typed.trim()) void browseFolder({ typedPath: typed.trim() });
  };
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && closeFolderPicker()}>
      <div className="modal file-browser" role="dialog" aria-modal="true" aria-labelledby="fp-title" data-testid="folder-picker">
        <header className="modal-header">
          <h2 id="fp-title">Export to folder</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={closeFolderPicker}>
            ×
          </button>
        </header>
        <form className="fb-location" onSubmit={go}>
          <input data-testid="folder-picker-path" aria-label="Folder path" placeholder="Type a folder path and press Enter" value={typed} onChange={(e) => setTyped(e.target.value)} />
          <button type="submit">Go</button>
        </form>
        <div className="fb-body">
          <nav className="fb-places" aria-label="Places">
            {listing?.places.map((p) => (
              <button key={p.ref} type="button" className="list-item" onClick={() => void browseFolder({ folder: p.ref })}>
                {p.name}
              </button>
            ))}
          </nav>
          <div className="fb-main">
            <p className="item-name" data-testid="folder-picker-current">{listing?.folder.name ?? ''}</p>
            {error && <p className="inline-error" role="alert">{error}</p>}
            <ul className="fb-entries">
              {listing?.entries.filter((e) => e.kind === 'dir').map((e) => (
                <li key={e.ref}>
                  <button type="button" className="fb-entry fb-dir" data-testid="folder-entry" data-name={e.name} onClick={() => void browseFolder({ folder: e.ref })}>
                    <span className="fb-icon" aria-hidden="true">▸</span>
                    <span className="item-name">{e.name}</span>
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </div>
        <footer className="modal-footer">
          <button type="button" data-testid="folder-picker-use" disabled={!listing} onClick={pickShownFolder}>
            Export here
          </button>
        </footer>
      </div>
    </div>
  );
}
