// Sandboxed preload: exposes one task function per contract call/stream, never ipcRenderer itself.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { StreamMessage, VantageBridge } from '../contract/bridge.js';
import { procedures } from '../contract/procedures.js';
import { APP_SCHEME } from './windowOptions.js';

const calls: Record<string, (input: unknown) => Promise<unknown>> = {};
const streams: Record<string, (input: unknown, onMessage: (m: StreamMessage<unknown>) => void) => () => void> = {};
let nextId = 1;
const listeners = new Map<number, (m: StreamMessage<unknown>) => void>();
ipcRenderer.on('vantage:stream-message', (_event, id: number, message: StreamMessage<unknown>) => {
  listeners.get(id)?.(message);
  if (message.op !== 'event') listeners.delete(id);
});

for (const [name, def] of Object.entries(procedures)) {
  if (def.kind === 'call') calls[name] = (input) => ipcRenderer.invoke(`vantage:call:${name}`, input);
  if (def.kind === 'stream') {
    streams[name] = (input, onMessage) => {
      const id = nextId++;
      listeners.set(id, onMessage);
      ipcRenderer.send(`vantage:stream:${name}`, id, input);
      return () => {
        listeners.delete(id);
        ipcRenderer.send('vantage:stream-cancel', id);
      };
    };
  }
}

// A dropped File's path is known only here: it goes straight to the main process, the page gets a reference back.
const droppedFileRef = (file: File) => ipcRenderer.invoke('vantage:call:files.fromDrop', { path: webUtils.getPathForFile(file) });

const bridge = { calls, streams, resourceScheme: APP_SCHEME, droppedFileRef } as unknown as VantageBridge;
contextBridge.exposeInMainWorld('vantageBridge', bridge);
