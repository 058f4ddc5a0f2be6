import { Worker } from 'node:worker_threads';
import { VantageError } from '../contract/errors.js';
import type { TileReply, TileRequest } from './tileProtocol.js';

type Pending = { resolve: (d: Uint8Array | null) => void; reject: (e: Error) => void; onProgress?: (p: number) => void };
type Body = TileRequest extends infer R ? (R extends TileRequest ? Omit<R, 'seq'> : never) : never;

/**
 * A fixed set of tile workers. Requests carry a routing key: the same key always goes to the same worker, so
 * its LRU of decoded blocks serves neighbouring tiles. A worker that dies fails its pending requests with a typed
 * error and is replaced on the next request.
 */
export class TilePool {
  private readonly workers: (Worker | null)[];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly workerUrl: string | URL,
    readonly size: number,
    private readonly cacheBytesPerWorker: number,
  ) {
    this.workers = new Array<Worker | null>(size).fill(null);
  }

  private worker(i: number): Worker {
    const existing = this.workers[i];
    if (existing) return existing;
    const w = new Worker(this.workerUrl, { workerData: { cacheBytes: this.cacheBytesPerWorker } });
    w.on('message', (r: TileReply) => {
      const p = this.pending.get(r.seq);
      if (!p) return;
      if ('progress' in r) {
        p.onProgress?.(r.progress);
        return;
      }
      this.pending.delete(r.seq);
      this.unrefIfIdle(i, w);
      if (r.ok) p.resolve(r.data);
      else p.reject(VantageError.from(r.error));
    });
    const gone = (why: string) => {
      if (this.workers[i] !== w) return;
      this.workers[i] = null;
      for (const [seq, p] of this.pending) {
        if (p.worker !== i) continue;
        this.pending.delete(seq);
        p.reject(new VantageError('INTERNAL', `the tile worker ${why}; the tile can be requested again`));
      }
    };
    w.on('error', (e) => gone(`crashed (${e.message})`));
    w.on('exit', (code) => gone(`exited with code ${code}`));
    w.unref(); // idle workers must not keep a CLI process alive; a pending request refs its worker
    this.workers[i] = w;
    return w;
  }

  private unrefIfIdle(i: number, w: Worker): void {
    for (const p of this.pending.values()) if (p.worker === i) return;
    w.unref();
  }

  /** FNV-1a of the routing key picks the worker */
  static route(key: string, size: number): number {
    let h = 2166136261;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
    return (h >>> 0) % size;
  }

  /** onProgress receives the worker's progress replies (long jobs such as an overview build) */
  request(routeKey: string, body: Body, onProgress?: (p: number) => void): Promise<Uint8Array | null> {
    if (this.closed) return Promise.reject(new VantageError('CANCELLED', 'the imagery engine is shut down'));
    const i = TilePool.route(routeKey, this.size);
    const w = this.worker(i);
    const seq = ++this.seq;
    w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, worker: i, onProgress });
      w.postMessage({ ...body, seq } as TileRequest);
    });
  }

  /** sends to every running worker (image released) */
  broadcast(body: Body): Promise<unknown> {
    return Promise.all(
      this.workers.map((w, i) => {
        if (!w) return null;
        const seq = ++this.seq;
        w.ref();
        return new Promise((resolve, reject) => {
          this.pending.set(seq, { resolve, reject, worker: i });
          w.postMessage({ ...body, seq } as TileRequest);
        }).catch(() => null);
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w?.terminate()));
    for (const p of this.pending.values()) p.reject(new VantageError('CANCELLED', 'the imagery engine is shut down'));
    this.pending.clear();
  }
}
