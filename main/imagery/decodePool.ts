import { availableParallelism } from 'node:os';
import zlib from 'node:zlib';
import { isMainThread, Worker } from 'node:worker_threads';
import { blockKernel, type BlockLayout, type BlockRef, type Kernel, type WindowSpec } from './blockKernel.js';
import { deflateAddonFile, loadDeflateAddon, withLibdeflate } from './fastInflate.js';
import { lzwDecode } from './safeLzw.js';

/** Blocks whose bytes lie together in the file: one read, then each block is decoded. */
export interface ReadUnit {
  offset: number;
  length: number;
  blocks: BlockRef[];
}

/** A window decode handed to the pool: the workers read, decode and write straight into shared band arrays. */
export interface PoolJob {
  file: string;
  lay: BlockLayout;
  win: WindowSpec;
  units: ReadUnit[];
  /** one per requested band, `pixels` elements of the layout's type each */
  outs: SharedArrayBuffer[];
  pixels: number;
}

interface WorkerJob extends PoolJob {
  id: number;
  /** Int32 counter: the next unit to take (workers share the units of a job) */
  counter: SharedArrayBuffer;
}

type Fs = typeof import('node:fs');
type Port = { on(ev: 'message', f: (job: WorkerJob) => void): void; postMessage(m: unknown): void };

/** The worker's loop (self-contained: its source text runs in the worker, next to blockKernel's). */
function workerMain(K: Kernel, port: Port, fs: Fs): void {
  port.on('message', (job: WorkerJob) => {
    const counter = new Int32Array(job.counter);
    let fd = -1;
    try {
      const outs = job.outs.map((b) => K.bandArray(job.lay, b, job.pixels));
      fd = fs.openSync(job.file, 'r');
      for (;;) {
        const i = Atomics.add(counter, 0, 1);
        if (i >= job.units.length) break;
        const u = job.units[i]!;
        const buf = Buffer.allocUnsafeSlow(u.length);
        for (let got = 0; got < u.length; ) {
          const r = fs.readSync(fd, buf, got, u.length - got, u.offset + got);
          if (r <= 0) throw new Error(`the file ends before byte ${u.offset + u.length}`);
          got += r;
        }
        for (const b of u.blocks) {
          const rel = b.offset - u.offset;
          K.scatter(job.lay, job.win, outs, b, K.decodeBlock(job.lay, buf.subarray(rel, rel + b.length), b.by));
        }
      }
      port.postMessage({ id: job.id, ok: true });
    } catch (e) {
      Atomics.store(counter, 0, 0x3fffffff); // the other workers stop taking units
      port.postMessage({ id: job.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  });
}

/** the libdeflate addon, when it loads here (the workers load the same file) */
const addonFile = loadDeflateAddon() ? deflateAddonFile() : null;

const WORKER_SOURCE = [
  "const { parentPort } = require('node:worker_threads');",
  `const lzw = (${lzwDecode.toString()});`,
  `const addon = ${addonFile ? `require(${JSON.stringify(addonFile)})` : 'null'};`,
  `const zl = (${withLibdeflate.toString()})(require('node:zlib'), addon);`,
  `const K = (${blockKernel.toString()})(zl, lzw, addon);`,
  `(${workerMain.toString()})(K, parentPort, require('node:fs'));`,
].join('\n');

type Pending = { left: number; error: string | null; resolve: () => void; reject: (e: Error) => void };

/**
 * Decode threads for large window reads (many blocks): each worker takes read units from a shared counter until none
 * are left, so the work balances itself. Workers start on first use and do not keep the process alive.
 */
export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private broken: string | null = null;

  constructor(readonly size: number) {}

  /** null once a worker failed to start or crashed: callers decode in their own thread */
  get usable(): boolean {
    return this.broken === null;
  }

  private start(): void {
    while (this.workers.length < this.size) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m: { id: number; ok: boolean; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        if (!m.ok && p.error === null) p.error = m.error ?? 'decode failed';
        if (--p.left > 0) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) for (const x of this.workers) x.unref();
        if (p.error !== null) p.reject(new Error(p.error));
        else p.resolve();
      });
      const fail = (why: string) => {
        this.broken = why;
        for (const p of this.pending.values()) p.reject(new Error(`a decode worker ${why}`));
        this.pending.clear();
        void this.close();
      };
      w.on('error', (e) => fail(`crashed (${e.message})`));
      w.on('exit', (code) => {
        if (this.workers.includes(w)) fail(`exited with code ${code}`);
      });
      w.unref();
      this.workers.push(w);
    }
  }

  run(job: PoolJob): Promise<void> {
    if (this.broken) return Promise.reject(new Error(`the decode pool is unusable: ${this.broken}`));
    this.start();
    const id = ++this.seq;
    const n = Math.min(this.workers.length, job.units.length);
    if (n === 0) return Promise.resolve();
    const counter = new SharedArrayBuffer(4);
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { left: n, error: null, resolve, reject });
      for (let i = 0; i < n; i++) {
        const w = this.workers[i]!;
        w.ref();
        w.postMessage({ ...job, id, counter } satisfies WorkerJob);
      }
    });
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

let shared: DecodePool | null = null;

/**
 * The process's decode pool: VANTAGE_DECODE_THREADS workers (default: one per CPU, at most 8), or null when there is
 * one thread only (decoding here is as fast) or the pool failed. Worker threads (the tile workers, already one per
 * CPU) decode in their own thread: no pool of pools.
 */
export function decodePool(): DecodePool | null {
  if (!isMainThread) return null;
  if (!shared) {
    const env = Number(process.env.VANTAGE_DECODE_THREADS);
    const size = Math.min(8, Number.isInteger(env) && env > 0 ? env : availableParallelism());
    shared = new DecodePool(size);
  }
  return shared.size > 1 && shared.usable ? shared : null;
}

/** the kernel for decoding in this thread */
const localAddon = addonFile ? loadDeflateAddon(addonFile) : null;
export const localKernel: Kernel = blockKernel(withLibdeflate(zlib, localAddon), lzwDecode, localAddon);
