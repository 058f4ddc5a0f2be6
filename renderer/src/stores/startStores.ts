import type { VantageClient } from '../../../main/contract/procedures.js';
import { emitAppEvent, setBodyState } from '../appEvents.js';
import { loadBasemap } from './basemapStore.js';
import { setCaseChangedListener } from './caseStore.js';
import { setClient } from './clientRef.js';
import { startDisplayStore } from './displayStore.js';
import { startInstantMasks } from './instantMaskStore.js';
import { loadAppStatus, refreshModelStatus } from './modelStore.js';
import { loadPacks } from './packStore.js';
import { watchCase } from './reportStore.js';
import { initSessions, refreshSessions } from './sessionStore.js';

/**
 * The one place the renderer's stores start (main.tsx calls it once, before the first render): the transport they
 * all use, the links between stores (each follows the case or the map on its own), then the first loads. Components
 * only read stores and call their actions.
 */
export async function startStores(client: VantageClient): Promise<void> {
  setClient(client);
  setCaseChangedListener(() => void refreshSessions());
  startDisplayStore(); // display settings of the case's images, the pixel under the cursor
  watchCase(); // measured objects and stored reports of the open case
  startInstantMasks(); // a preview mask for each point or box drawn
  loadBasemap();
  void loadPacks();

  await loadAppStatus();
  void refreshModelStatus();
  await initSessions();
  setBodyState('ready', 'true');
  emitAppEvent('app-ready');
}
