import { useState, type KeyboardEvent } from 'react';
import { TASK_MODE_SPECS } from '../../../main/contract/taskModes.js';
import { caseStore } from '../stores/caseStore.js';
import { ask, chatStore, setMode, stopAnswer } from '../stores/chatStore.js';
import { useStore } from '../stores/createStore.js';
import { instantMaskStore } from '../stores/instantMaskStore.js';
import { clearPendingRegions, mapStore } from '../stores/mapStore.js';
import { keepPrompt } from '../stores/batchMaskStore.js';
import { CLASSICAL_MASK_NOTE } from '../../../main/contract/calls/chat.js';
import { TaskModes } from './TaskModes.js';

export function ChatComposer() {
  const [text, setText] = useState('');
  const streaming = useStore(chatStore, (s) => s.streaming);
  const mode = useStore(chatStore, (s) => s.mode);
  const pending = useStore(mapStore, (s) => s.pending.length);
  const hasImage = useStore(caseStore, (s) => s.activeImageId !== null);
  const preview = useStore(instantMaskStore, (s) => s.preview);
  const textOptional = TASK_MODE_SPECS[mode].textOptional;

  // "Keep": the previewed point/box stored as an object of the case (a batch of one), then the prompt is cleared
  const keep = () => {
    if (!preview) return;
    const region = mapStore.get().pending.find((p) => p.key === preview.regionKey);
    const g = region?.geometry;
    if (!g || (g.kind !== 'point' && g.kind !== 'box')) return;
    const label = preview.method === 'classical' ? `${g.kind} mask, ${CLASSICAL_MASK_NOTE}` : `${g.kind} mask`;
    if (keepPrompt(preview.imageId, { ...g, label }, region.viewSpanPx)) clearPendingRegions();
  };
  const send = () => {
    if (ask(text)) setText('');
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <div className="composer">
      <div className="mode-toggle" role="radiogroup" aria-label="Answer mode">
        {(['chat', 'ground'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={mode === m}
            data-testid={`mode-${m}`}
            className={mode === m ? 'active' : ''}
            onClick={() => setMode(m)}
          >
            {m === 'chat' ? 'Chat' : 'Ground'}
          </button>
        ))}
        {pending > 0 && <span className="composer-regions">{pending} region{pending > 1 ? 's' : ''} attached</span>}
        {preview && (
          <span
            className="composer-regions"
            data-testid="instant-mask-info"
            data-tile={preview.tile.join(',')}
            title={`computed on a ${Math.round(preview.tile[2] - preview.tile[0])}×${Math.round(preview.tile[3] - preview.tile[1])} px tile`}
          >
            preview mask {Math.round(preview.areaPx).toLocaleString()} px² · {Math.round(preview.ms)} ms
            {preview.method === 'classical' && <span data-testid="instant-mask-method"> · {CLASSICAL_MASK_NOTE}</span>}
            {preview.areaPx > 0 && (
              <button type="button" className="link" data-testid="instant-mask-keep" title="Store this mask as an object of the case" onClick={keep}>
                Keep
              </button>
            )}
          </span>
        )}
      </div>
      <TaskModes />
      <textarea
        data-testid="chat-input"
        aria-label="Question about the active image"
        placeholder={hasImage ? 'Ask about the image… (Enter to send, Shift+Enter for a new line)' : 'Open an image to ask about it'}
        value={text}
        rows={3}
        maxLength={8000}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
      />
      <div className="composer-actions">
        {streaming ? (
          <button type="button" className="danger" data-testid="chat-stop" onClick={stopAnswer}>
            Stop
          </button>
        ) : (
          <button type="button" className="primary" data-testid="chat-send" disabled={(!text.trim() && !textOptional) || !hasImage} onClick={send}>
            Send
          </button>
        )}
      </div>
    </div>
  );
}
