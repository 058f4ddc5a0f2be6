import { LayerList } from './LayerList.js';
import { ModelPanel } from './ModelPanel.js';
import { SessionList } from './SessionList.js';

export function Sidebar() {
  return (
    <aside className="sidebar" aria-label="Cases and layers">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">V</span> Vantage
      </div>
      <SessionList />
      <LayerList />
      <ModelPanel />
    </aside>
  );
}
