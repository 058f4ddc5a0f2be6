import { useEffect, useRef } from 'react';
import { caseStore } from '../stores/caseStore.js';
import { chatStore } from '../stores/chatStore.js';
import { useStore } from '../stores/createStore.js';
import { ChatComposer } from './ChatComposer.js';
import { ExportPanel } from './ExportPanel.js';
import { ObjectList } from './ObjectList.js';
import { TurnItem } from './TurnItem.js';

export function ChatPanel() {
  const turns = useStore(caseStore, (s) => s.turns);
  const error = useStore(chatStore, (s) => s.error);
  const listRef = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [turns]);
  return (
    <aside className="chat-panel" aria-label="Chat">
      <header className="section-header">
        <h2>Analyst chat</h2>
      </header>
      <ol className="turns" ref={listRef} data-testid="turns" aria-live="polite">
        {turns.length === 0 && <li className="muted empty">Draw regions on the map and ask a question.</li>}
        {turns.map((t) => (
          <TurnItem key={t.id} turn={t} />
        ))}
      </ol>
      {error && (
        <p className="inline-error" role="alert" data-testid="chat-error">
          {error}
        </p>
      )}
      <ChatComposer />
      <ObjectList />
      <ExportPanel />
    </aside>
  );
}
