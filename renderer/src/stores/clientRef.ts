import type { VantageClient } from '../../../main/contract/procedures.js';

let current: VantageClient | null = null;

/** Stores reach the transport through here; it is set once at start-up, before the first render. */
export function setClient(client: VantageClient): void {
  current = client;
}

export function client(): VantageClient {
  if (!current) throw new Error('transport not initialised: call setClient() before rendering');
  return current;
}

/**
 * What the analyst reads of a failed call: the error's own sentence (and where the input went wrong), never the
 * contract's error code (`BAD_INPUT`, `NOT_FOUND`…). The code stays on the error object for code that branches on it.
 */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { message: string; issues?: { path: string; message: string }[] };
    const issues = e.issues?.length ? ` (${e.issues.map((i) => `${i.path || 'input'}: ${i.message}`).join('; ')})` : '';
    return `${e.message}${issues}`;
  }
  return String(err);
}
