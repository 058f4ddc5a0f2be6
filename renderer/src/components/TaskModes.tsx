import { TASK_MODE_SPECS } from '../../../main/contract/taskModes.js';
import { chatStore, setMode } from '../stores/chatStore.js';
import { useStore } from '../stores/createStore.js';
import { availableModes, packStore } from '../stores/packStore.js';

/** Task-mode picker: only the presets the loaded pack can run (chat-only packs offer no mask modes). */
export function TaskModes() {
  const mode = useStore(chatStore, (s) => s.mode);
  const modes = availableModes(useStore(packStore, (s) => s.packs));
  const spec = TASK_MODE_SPECS[mode];
  if (modes.length === 0) {
    return <div className="task-modes-hint">This pack segments only: draw a point or box for an instant mask.</div>;
  }
  return (
    <label className="task-modes">
      <span>Task</span>
      <select data-testid="task-mode" value={mode} onChange={(e) => setMode(e.target.value as typeof mode)} title={spec.template.replace('{text}', '…')}>
        {modes.map((m) => (
          <option key={m} value={m}>
            {TASK_MODE_SPECS[m].label}
          </option>
        ))}
      </select>
      {spec.minRegions > 0 && <span className="task-modes-hint">draw {spec.minRegions === 1 ? 'a region' : `${spec.minRegions} regions`}</span>}
    </label>
  );
}
