import 'leaflet/dist/leaflet.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setBodyState } from './appEvents.js';
import { App } from './components/App.js';
import { startStores } from './stores/startStores.js';
import { createClient } from './transport/createClient.js';

const { client, transport } = createClient();
setBodyState('transport', transport);
window.__vantageEvents ??= [];
void startStores(client); // sets the transport at once, before the first render reads any store

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
