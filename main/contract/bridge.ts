import type { ErrorPayload } from './errors.js';
import type { CallName, EventOf, InputOf, OutputOf, StreamName } from './procedures.js';

/** Result envelope used across Electron IPC, where thrown errors lose their type. */
export type BridgeResult<T> = { ok: true; result: T } | { ok: false; error: ErrorPayload };

export type StreamMessage<E> = { op: 'event'; data: E } | { op: 'error'; error: ErrorPayload } | { op: 'complete' };

/**
 * What the Electron preload exposes on `window.vantageBridge`: one task function per contract call or stream,
 * never ipcRenderer or a generic invoke.
 */
export interface VantageBridge {
  calls: { [K in CallName]: (input: InputOf<K>) => Promise<BridgeResult<OutputOf<K>>> };
  streams: {
    [K in StreamName]: (input: InputOf<K>, onMessage: (message: StreamMessage<EventOf<K>>) => void) => () => void;
  };
  /** custom protocol serving resources: `${resourceScheme}://resource/${name}?query` */
  resourceScheme: string;
  /** a reference for a file dropped on the page (the preload resolves its path; the page never sees it) */
  droppedFileRef?: (file: File) => Promise<BridgeResult<{ ref: string }>>;
}

/** Loopback wire protocol (transport B), shared by server and browser client. */
export const LOOPBACK = {
  /**
   * The session cookie a browser gets for the single-use launch token; the server names it `<sessionCookie>_<port>`
   * (cookies ignore ports, so two servers on 127.0.0.1 would otherwise overwrite each other's).
   */
  sessionCookie: 'vantage_session',
  tokenHeader: 'authorization', // "Bearer <api token>" for in-process non-browser clients (tests)
  /**
   * Largest RPC body or WebSocket message. A `chat.ask` of 8 regions of 10,000 vertices in full-precision pixel
   * coordinates is about 3 MB; the client simplifies regions to pixel tolerance before sending, so real asks are a
   * few kB. Past it the server refuses that request (400) or closes that socket (1009), nothing else.
   */
  maxMessageBytes: 4 * 1024 * 1024,
  rpcPrefix: '/rpc/',
  resourcePrefix: '/resource/',
  wsPath: '/ws',
  /** POST the bytes of a dropped file, `?name=<file name>`; answers { ok, result: { ref, name } } */
  uploadPath: '/upload',
} as const;

export type WsClientMessage =
  | { op: 'subscribe'; id: number; name: string; input: unknown }
  | { op: 'unsubscribe'; id: number };
export type WsServerMessage = { id: number } & StreamMessage<unknown>;
