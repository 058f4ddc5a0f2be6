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

export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { code?: string; message: string; issues?: { path: string; message: string }[] };
    const issues = e.issues?.length ? ` (${e.issues.map((i) => `${i.path || 'input'}: ${i.message}`).join('; ')})` : '';
    return `${e.code ? `${e.code}: ` : ''}${e.message}${issues}`;
  }
  return String(err);
}
