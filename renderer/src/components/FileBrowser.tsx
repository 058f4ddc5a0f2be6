import { useEffect, useState, type FormEvent } from 'react';
import { useStore } from '../stores/createStore.js';
import { browse, chooseFile, closeFileBrowser, fileBrowserStore } from '../stores/fileBrowserStore.js';

function formatSize(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** In-app file browser for when there are no native dialogs (browser mode): names and refs only, never paths. */
export function FileBrowser() {
  const { open, listing, loading, error, title, purpose } = useStore(fileBrowserStore, (s) => s);
  const [typed, setTyped] = useState('');

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && closeFileBrowser();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  if (!open) return null;
  const go = (e?: FormEvent) => {
    e?.preventDefault();
    if (typed.trim()) void browse({ typedPath: typed.trim() });
  };
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && closeFileBrowser()}>
      <div className="modal file-browser" role="dialog" aria-modal="true" aria-labelledby="fb-title" data-testid="file-browser">
        <header className="modal-header">
          <h2 id="fb-title">{title ?? 'Open image'}</h2>
          <button type="button" className="icon-button" aria-label="Close" data-testid="file-browser-close" onClick={closeFileBrowser}>
            ×
          </button>
        </header>
        {purpose === 'folder' && listing && (
          <p className="fb-choose-folder">
            <button type="button" className="primary" data-testid="file-browser-choose-folder" onClick={() => void chooseFile(listing.folder.ref)}>
              Choose “{listing.folder.name}”
            </button>
          </p>
        )}
        <form className="fb-location" onSubmit={go}>
          <input
            data-testid="file-browser-path"
            aria-label="Folder path"
            placeholder="Type a folder path and press Enter"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
          <button type="submit" data-testid="file-browser-go">Go</button>
        </form>
        <div className="fb-body">
          <nav className="fb-places" aria-label="Places">
            {listing?.places.map((p) => (
              <button key={p.ref} type="button" className="list-item" data-testid="file-place" onClick={() => void browse({ folder: p.ref })}>
                {p.name}
              </button>
            ))}
          </nav>
          <div className="fb-main">
            <nav className="fb-crumbs" aria-label="Folder" data-testid="file-browser-crumbs">
              {listing && listing.crumbs.map((c, i) => (
                <span key={c.ref}>
                  {i > 0 && !listing.crumbs[i - 1]!.name.endsWith('/') && <span className="crumb-sep">/</span>}
                  <button type="button" className="link" onClick={() => void browse({ folder: c.ref })}>
                    {c.name}
                  </button>
                </span>
              ))}
            </nav>
            {error && (
              <p className="inline-error" role="alert" data-testid="file-browser-error">
                {error}
              </p>
            )}
            <ul className="fb-entries" aria-busy={loading}>
              {listing?.entries.length === 0 && <li className="muted">No folders or images here.</li>}
              {listing?.entries.map((e) => (
                <li key={e.ref}>
                  <button
                    type="button"
                    className={`fb-entry fb-${e.kind}`}
                    data-testid="file-entry"
                    data-name={e.name}
                    data-kind={e.kind}
                    onClick={() => void (e.kind === 'dir' ? browse({ folder: e.ref }) : chooseFile(e.ref))}
                  >
                    <span className="fb-icon" aria-hidden="true">{e.kind === 'dir' ? '▸' : '▣'}</span>
                    <span className="item-name">{e.name}</span>
                    <span className="item-meta">{formatSize(e.size)}</span>
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </div>
      </div>
    </div>
  );
}
