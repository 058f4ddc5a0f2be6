import { useState, type FormEvent } from 'react';
import { useStore } from '../stores/createStore.js';
import { createSession, defaultCaseName, openSession, sessionStore } from '../stores/sessionStore.js';

export function SessionList() {
  const { sessions, currentId, error } = useStore(sessionStore, (s) => s);
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
      {error && <p className="inline-error" role="alert">{error}</p>}
      <ul className="item-list" data-testid="session-list">
        {sessions.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={`list-item${s.id === currentId ? ' selected' : ''}`}
              data-testid="session-item"
              data-session-id={s.id}
              aria-current={s.id === currentId ? 'true' : undefined}
              onClick={() => s.id !== currentId && void openSession(s.id)}
            >
              <span className="item-name">{s.name}</span>
              <span className="item-meta">
                {s.imageCount} img · {s.turnCount} turns
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
