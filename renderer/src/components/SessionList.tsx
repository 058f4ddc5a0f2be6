import { useStore } from '../stores/createStore.js';
import { useState, type FormEvent } from 'react';
import { createSession, defaultCaseName, importCase, searchSessions, sessionStore } from '../stores/sessionStore.js';
import { DeletedCases } from './DeletedCases.js';
import { RelinkPrompt } from './RelinkPrompt.js';
import { SessionRow } from './SessionRow.js';
import { UndoToast } from './UndoToast.js';

/** The cases: search, create, and per case open / rename / duplicate / delete (with undo, and "Recently deleted"); missing images to relink. */
export function SessionList() {
  const { sessions, currentId, error, query, notice, embedImages } = useStore(sessionStore, (s) => s);
  const [naming, setNaming] = useState<string | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const name = naming ?? '';
    setNaming(null);
    void createSession(name);
  };

  return (
    <section className="panel-section" aria-labelledby="cases-heading">
      <header className="section-header">
        <h2 id="cases-heading">Cases</h2>
        <button
          type="button"
          className="icon-button"
          data-testid="session-new"
          aria-label="New case"
          title="New case"
          onClick={() => setNaming(defaultCaseName())}
        >
          +
        </button>
        <button
          type="button"
          className="icon-button"
          data-testid="session-import"
          aria-label="Import a case file"
          title="Import a .vantage case file"
          onClick={() => void importCase()}
        >
          ⇩
        </button>
      </header>
      {naming !== null && (
        <form className="inline-form" onSubmit={submit}>
          <input
            aria-label="Name of the new case"
            data-testid="session-name"
            value={naming}
            autoFocus
            maxLength={200}
            onChange={(e) => setNaming(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setNaming(null)}
          />
          <button type="submit" data-testid="session-create">Create</button>
        </form>
      )}
      <input
        type="search"
        className="session-search"
        data-testid="session-search"
        aria-label="Search cases by name, image, text or date"
        placeholder="Search name, image, text, date…"
        value={query}
        maxLength={200}
        onChange={(e) => void searchSessions(e.target.value)}
      />
      {error && <p className="inline-error" role="alert">{error}</p>}
      {notice && <p className="muted" role="status" data-testid="session-notice">{notice}</p>}
      <ul className="item-list" data-testid="session-list">
        {sessions.map((s) => (
          <SessionRow key={s.id} session={s} current={s.id === currentId} />
        ))}
        {sessions.length === 0 && query.trim() !== '' && <li className="muted">No case matches “{query.trim()}”.</li>}
      </ul>
      <DeletedCases />
      <label className="session-embed">
        <input
          type="checkbox"
          data-testid="session-embed-images"
          checked={embedImages}
          onChange={(e) => sessionStore.set({ embedImages: e.target.checked })}
        />
        embed images in exported case files
      </label>
      <UndoToast />
      <RelinkPrompt />
    </section>
  );
}
