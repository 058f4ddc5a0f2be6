import { useStore } from '../stores/createStore.js';
import {
  browsePacks,
  cancelInstall,
  chooseAndInstallPack,
  closePackBrowser,
  installBrowsedPack,
  installPack,
  packStore,
  removePack,
  selectPack,
  signatureMark,
} from '../stores/packStore.js';

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/**
 * Model packs: what is installed (size, expected VRAM, what it can do), which one is used, side-loading from a
 * folder or .zip (offline; every sha256 is verified by the backend before install), and removal.
 */
export function ModelPanel() {
  const { packs, busy, error, confirm, browsing, browseError } = useStore(packStore, (s) => s);

  return (
    <section className="model-panel" aria-label="Model packs" data-testid="model-panel">
      <h3>Model packs</h3>
      <ul>
        {packs.map((p) => (
          <li key={`${p.name}-${p.version}`} data-testid="pack-item" className={p.selected ? 'selected' : ''}>
            <div>
              <strong>{p.name}</strong> {p.version} {p.builtin && <em>(built-in)</em>}
            </div>
            <div className={`pack-signature ${p.signature.status}`} data-testid="pack-signature" data-status={p.signature.status} title={p.signature.fingerprint ? `key ${p.signature.fingerprint}` : 'no manifest.sig'}>
              {signatureMark(p)}
            </div>
            <div className="pack-facts">
              {mb(p.sizeBytes)} · ~{p.expectedVramMB} MB VRAM · {p.tasks.length === 0 ? 'segmentation only' : p.instantMasks ? 'chat + masks' : 'chat only'}
            </div>
            <div className="pack-actions">
              {p.selected ? (
                <span>in use</span>
              ) : (
                <button type="button" disabled={busy !== null} onClick={() => void selectPack(p.name, p.version)}>
                  Use
                </button>
              )}
              {!p.builtin && (
                <button type="button" className="danger" disabled={busy !== null} onClick={() => void removePack(p.name, p.version)}>
                  Remove
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <button type="button" data-testid="pack-install" disabled={busy !== null} onClick={() => void chooseAndInstallPack()}>
        Install pack…
      </button>
      {busy && <div className="pack-busy">{busy}…</div>}
      {confirm && (
        <div className="pack-confirm" role="alertdialog" aria-label="Install an unverified pack?" data-testid="pack-confirm">
          <p>{confirm.message}</p>
          <p>
            {confirm.status === 'unsigned'
              ? 'Nobody vouches for this pack: its files match its own manifest, but anyone could have made or changed both.'
              : 'Its signature is intact, but the key is not one you trust (vantage packs trust KEYFILE).'}{' '}
            It will be marked as such here and in the provenance of every answer it gives.
          </p>
          <button type="button" className="danger" data-testid="pack-confirm-install" disabled={busy !== null} onClick={() => void installPack(confirm.file, true)}>
            Install anyway
          </button>
          <button type="button" data-testid="pack-confirm-cancel" onClick={cancelInstall}>
            Cancel
          </button>
        </div>
      )}
      {(error ?? browseError) && (
        <div className="error" role="alert">
          {error ?? browseError}
        </div>
      )}
      {browsing && (
        <div className="pack-browser" data-testid="pack-browser">
          <div className="pack-crumbs">
            {browsing.crumbs.map((c) => (
              <button key={c.ref} type="button" className="link" onClick={() => void browsePacks({ folder: c.ref })}>
                {c.name}/
              </button>
            ))}
          </div>
          <ul>
            {browsing.entries.map((e) => (
              <li key={e.ref}>
                <button type="button" className="link" onClick={() => void (e.kind === 'dir' ? browsePacks({ folder: e.ref }) : installBrowsedPack(e.ref))}>
                  {e.name}
                  {e.kind === 'dir' ? '/' : ''}
                </button>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => void installBrowsedPack(browsing.folder.ref)}>
            Install this folder
          </button>
          <button type="button" onClick={closePackBrowser}>
            Cancel
          </button>
        </div>
      )}
    </section>
  );
}
