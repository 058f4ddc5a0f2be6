import 'leaflet/dist/leaflet.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { emitAppEvent, setBodyState } from './appEvents.js';
import { App } from './components/App.js';
import { setClient } from './stores/clientRef.js';
import { loadAppStatus, refreshModelStatus } from './stores/modelStore.js';
import { initSessions } from './stores/sessionStore.js';
import { createClient } from './transport/createClient.js';

const { client, transport } = createClient();
setClient(client);
setBodyState('transport', transport);
window.__vantageEvents ??= [];

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

async function boot(): Promise<void> {
  await loadAppStatus();
  void refreshModelStatus();
  await initSessions();
  setBodyState('ready', 'true');
  emitAppEvent('app-ready');
}
void boot();
