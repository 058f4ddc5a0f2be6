import { caseStore } from '../stores/caseStore.js';
import { useStore } from '../stores/createStore.js';
import { chooseFor } from '../stores/fileBrowserStore.js';
import { relinkImage } from '../stores/sessionStore.js';

/** The open case's images whose files are gone: asks the user to point at the moved file (checked by content hash). */
export function RelinkPrompt() {
  // select the (stable) array and filter here: a selector returning a new array each time would re-render forever
  const images = useStore(caseStore, (s) => s.images);
  const missing = images.filter((i) => i.missing);
  if (missing.length === 0) return null;
  return (
    <div className="relink-prompt" role="alert" data-testid="relink-prompt">
      <p>
        {missing.length === 1 ? 'An image of this case has' : `${missing.length} images of this case have`} moved or gone missing. Nothing
        is lost: show Vantage where the file is now.
      </p>
      <ul className="item-list">
        {missing.map((img) => (
          <li key={img.id} className="relink-row">
            <span className="item-name">{img.name}</span>
            <button
              type="button"
              data-testid="relink-image"
              data-image-id={img.id}
              onClick={() => void chooseFor('image', `Relink ${img.name}`, (ref) => relinkImage(img.id, ref))}
            >
              Relink…
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
