import { LOOPBACK, type WsClientMessage } from '../../../main/contract/bridge.js';
import type { ErrorPayload } from '../../../main/contract/errors.js';
import { VantageError } from '../../../main/contract/errors.js';
import type { CallName, InputOf, OutputOf, StreamHandlers, VantageClient } from '../../../main/contract/procedures.js';
import { resourceQuery } from './resourceQuery.js';
import { toVantageError } from './transportError.js';

/** The part of a WebSocket the client uses: the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface LoopbackClientOptions {
  /** "http://127.0.0.1:PORT"; '' means the page's own origin (the browser case: the cookie rides along) */
  origin: string;
  fetch?: typeof fetch;
  openSocket?: (url: string) => SocketLike;
  /** extra request headers, e.g. a Bearer token for non-browser clients */
  headers?: Record<string, string>;
}

const OPEN = 1;

/**
 * Transport B: calls are POST /rpc/<name>, resources GET /resource/<name>, streams multiplexed over one WebSocket at
 * /ws that is opened on the first subscription and reopened lazily after it drops.
 */
export function createLoopbackClient(opts: LoopbackClientOptions): VantageClient & { close(): void } {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const openSocket = opts.openSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  let socket: SocketLike | null = null;
  let queue: string[] = [];
  let nextId = 1;
  const active = new Map<number, StreamHandlers<unknown>>();

  const failAll = (error: ErrorPayload) => {
    const handlers = [...active.values()];
    active.clear();
    for (const h of handlers) h.error(error);
  };

  const ensureSocket = (): SocketLike => {
    if (socket) return socket;
    const s = openSocket(wsUrlOf(opts.origin));
    socket = s;
    s.onopen = () => {
      const pending = queue;
      queue = [];
      for (const m of pending) s.send(m);
    };
    s.onmessage = (ev) => {
      let msg: { id?: unknown; op?: unknown; data?: unknown; error?: unknown };
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data)) as typeof msg;
      } catch {
        return;
      }
      const h = typeof msg.id === 'number' ? active.get(msg.id) : undefined;
      if (!h) return;
      if (msg.op === 'event') h.next(msg.data);
      else if (msg.op === 'error') {
        active.delete(msg.id as number);
        h.error(toVantageError(msg.error, 'the stream failed with a malformed error').toPayload());
      } else if (msg.op === 'complete') {
        active.delete(msg.id as number);
        h.complete();
      }
    };
    const dropped = () => {
      if (socket !== s) return;
      socket = null;
      queue = [];
      failAll({ code: 'INTERNAL', message: 'lost the connection to the Vantage server; is `vantage serve` still running? Send again to retry.' });
    };
    s.onclose = dropped;
    s.onerror = dropped;
    return s;
  };

  const send = (m: WsClientMessage) => {
    const s = ensureSocket();
    const text = JSON.stringify(m);
    if (s.readyState === OPEN) s.send(text);
    else queue.push(text);
  };

  return {
    async call<K extends CallName>(name: K, input: InputOf<K>): Promise<OutputOf<K>> {
      let res: Response;
      try {
        res = await doFetch(`${opts.origin}${LOOPBACK.rpcPrefix}${name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...opts.headers },
          body: JSON.stringify(input ?? {}),
          credentials: 'same-origin',
        });
      } catch (e) {
        throw new VantageError('INTERNAL', `cannot reach the Vantage server for ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const body = (await res.json().catch(() => null)) as { ok?: unknown; result?: unknown; error?: unknown } | null;
      if (res.ok && body?.ok === true) return body.result as OutputOf<K>;
      throw toVantageError(body?.error, `${name} failed: HTTP ${res.status} with no error description`);
    },
    subscribe(name, input, handlers) {
      const id = nextId++;
      active.set(id, handlers as StreamHandlers<unknown>);
      send({ op: 'subscribe', id, name, input });
      return {
        unsubscribe() {
          if (!active.delete(id)) return;
          if (socket) send({ op: 'unsubscribe', id });
        },
      };
    },
    resourceUrl(name, input) {
      return `${opts.origin}${LOOPBACK.resourcePrefix}${name}?${resourceQuery(input as Record<string, unknown>)}`;
    },
    close() {
      const s = socket;
      socket = null;
      queue = [];
      active.clear();
      s?.close();
    },
  };
}

export function wsUrlOf(origin: string): string {
  if (origin === '') {
    const loc = globalThis.location;
    return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${LOOPBACK.wsPath}`;
  }
  return `${origin.replace(/^http/, 'ws')}${LOOPBACK.wsPath}`;
}
