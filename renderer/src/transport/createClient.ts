import type { VantageBridge } from '../../../main/contract/bridge.js';
import type { VantageClient } from '../../../main/contract/procedures.js';
import { createElectronClient } from './electronClient.js';
import { createLoopbackClient } from './loopbackClient.js';

declare global {
  interface Window {
    vantageBridge?: VantageBridge;
  }
}

/** Inside Electron the preload has exposed the bridge; in a browser the page talks to the loopback server it came from. */
export function createClient(): { client: VantageClient; transport: 'electron' | 'loopback' } {
  const bridge = window.vantageBridge;
  if (bridge) return { client: createElectronClient(bridge), transport: 'electron' };
  return { client: createLoopbackClient({ origin: '' }), transport: 'loopback' };
}
