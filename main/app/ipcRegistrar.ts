import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import type { BridgeResult, StreamMessage } from '../contract/bridge.js';
import { VantageError } from '../contract/errors.js';
import { procedures } from '../contract/procedures.js';
import { toErrorPayload, type Dispatcher } from '../server/dispatcher.js';
import { APP_ORIGIN } from './windowOptions.js';

/**
 * Transport A: one registration point for every contract call. Each sender must be the app's own top frame; each
 * payload goes through the same dispatcher (schema validation) as the loopback transport.
 */
export function registerIpc(dispatcher: Dispatcher): () => void {
  const trusted = (e: IpcMainEvent | IpcMainInvokeEvent) => {
    const url = e.senderFrame?.url ?? '';
    return url.startsWith(`${APP_ORIGIN}/`) && e.senderFrame === e.sender.mainFrame;
  };
  const untrusted = (): BridgeResult<never> => ({ ok: false, error: new VantageError('UNAUTHORIZED', 'untrusted sender').toPayload() });
  const active = new Map<string, AbortController>();
  const channels: string[] = [];

  for (const [name, def] of Object.entries(procedures)) {
    if (def.kind === 'call') {
      const channel = `vantage:call:${name}`;
      channels.push(channel);
      ipcMain.handle(channel, async (e, input: unknown): Promise<BridgeResult<unknown>> => {
        if (!trusted(e)) return untrusted();
        try {
          return { ok: true, result: await dispatcher.call(name, input) };
        } catch (err) {
          return { ok: false, error: toErrorPayload(err) };
        }
      });
    } else if (def.kind === 'stream') {
      const channel = `vantage:stream:${name}`;
      channels.push(channel);
      ipcMain.on(channel, (e, id: unknown, input: unknown) => {
        if (!trusted(e) || typeof id !== 'number') return;
        const key = `${e.sender.id}:${id}`;
        const controller = new AbortController();
        active.set(key, controller);
        const send = (m: StreamMessage<unknown>) => {
          if (!e.sender.isDestroyed()) e.sender.send('vantage:stream-message', id, m);
        };
        dispatcher
          .subscribe(name, input, (data) => send({ op: 'event', data }), controller.signal)
          .then(() => send({ op: 'complete' }))
          .catch((err: unknown) => send({ op: 'error', error: toErrorPayload(err) }))
          .finally(() => active.delete(key));
      });
    }
  }
  const cancel = (e: IpcMainEvent, id: unknown) => {
    if (trusted(e) && typeof id === 'number') active.get(`${e.sender.id}:${id}`)?.abort();
  };
  ipcMain.on('vantage:stream-cancel', cancel);
  return () => {
    for (const c of channels) {
      ipcMain.removeHandler(c);
      ipcMain.removeAllListeners(c);
    }
    ipcMain.removeListener('vantage:stream-cancel', cancel);
    for (const c of active.values()) c.abort();
  };
}
