import { ChatPanel } from './ChatPanel.js';
import { ComparePanel } from './ComparePanel.js';
import { FileBrowser } from './FileBrowser.js';
import { FolderPicker } from './FolderPicker.js';
import { MapPane } from './map/MapPane.js';
import { Sidebar } from './Sidebar.js';
import { StatusBar } from './StatusBar.js';
import { Toolbar } from './Toolbar.js';

export function App() {
  return (
    <div className="app">
      <Sidebar />
      <main className="centre">
        <Toolbar />
        <MapPane />
      </main>
      <ChatPanel />
      <StatusBar />
      <FileBrowser />
      <FolderPicker />
      <ComparePanel />
    </div>
  );
}
