import type { VantageBridge } from '../../../main/contract/bridge.js';
import type { CallName, InputOf, OutputOf, StreamName, VantageClient } from '../../../main/contract/procedures.js';
import { toVantageError } from './transportError.js';
import { resourceQuery } from './resourceQuery.js';

/** Transport A: the preload's task functions. IPC loses thrown error types, so calls come back in a BridgeResult envelope. */
export function createElectronClient(bridge: VantageBridge): VantageClient {
  return {
    async call<K extends CallName>(name: K, input: InputOf<K>): Promise<OutputOf<K>> {
      const fn = bridge.calls[name] as unknown as ((i: unknown) => Promise<unknown>) | undefined;
      if (typeof fn !== 'function') throw toVantageError({ code: 'NOT_FOUND', message: `the desktop bridge has no call ${name}` }, '');
      const envelope = (await fn(input)) as { ok?: unknown; result?: unknown; error?: unknown } | null;
      if (envelope && envelope.ok === true) return envelope.result as OutputOf<K>;
      throw toVantageError(envelope?.error, `${name} failed with a malformed reply from the desktop bridge`);
    },
    subscribe(name, input, handlers) {
      const fn = bridge.streams[name as StreamName] as unknown as
        | ((i: unknown, onMessage: (m: { op: string; data?: unknown; error?: unknown }) => void) => () => void)
        | undefined;
      if (typeof fn !== 'function') {
        queueMicrotask(() => handlers.error({ code: 'NOT_FOUND', message: `the desktop bridge has no stream ${name}` }));
        return { unsubscribe() {} };
      }
      let closed = false;
      const stop = fn(input, (m) => {
        if (closed) return;
        if (m.op === 'event') handlers.next(m.data as never);
        else if (m.op === 'error') {
          closed = true;
          handlers.error(toVantageError(m.error, `${name} failed`).toPayload());
        } else if (m.op === 'complete') {
          closed = true;
          handlers.complete();
        }
      });
      return {
        unsubscribe() {
          if (closed) return;
          closed = true;
          stop();
        },
      };
    },
    resourceUrl(name, input) {
      return `${bridge.resourceScheme}://resource/${name}?${resourceQuery(input as Record<string, unknown>)}`;
    },
  };
}
