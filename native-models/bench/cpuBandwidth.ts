import { Worker } from 'node:worker_threads';

/**
 * Host-memory bandwidth as a multi-threaded copy: `threads` workers each copy their own slice of a shared source
 * buffer into a shared destination (TypedArray.set = memcpy), started together; bandwidth = bytes read + bytes
 * written over the wall time of the slowest worker, best of `runs`. This is the floor a decode step is measured
 * against on the CPU (issue 16: the earlier probe — one onnxruntime ConstantOfShape + ReduceSum — ran mostly on one
 * thread and read ≈ 11 GB/s where a 2-thread copy moves ≈ 44 GB/s).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { src, dst, begin, end } = workerData;
const s = new Float64Array(src, begin * 8, end - begin), d = new Float64Array(dst, begin * 8, end - begin);
d.set(s); // first touch: page the destination in before anything is timed
parentPort.on('message', () => { const t0 = performance.now(); d.set(s); parentPort.postMessage(performance.now() - t0); });
parentPort.postMessage(0);
`;

export interface CopyBandwidth {
  bytesPerSecond: number;
  bestMs: number;
  threads: number;
  bufferBytes: number;
}

export async function copyBandwidth(threads: number, bufferBytes = 512 * 2 ** 20, runs = 8): Promise<CopyBandwidth> {
  const n = Math.floor(bufferBytes / 8);
  const src = new SharedArrayBuffer(n * 8);
  const dst = new SharedArrayBuffer(n * 8);
  new Float64Array(src).fill(1.5);
  const workers: Worker[] = [];
  const ready: Promise<unknown>[] = [];
  for (let t = 0; t < threads; t++) {
    const begin = Math.floor((n * t) / threads), end = Math.floor((n * (t + 1)) / threads);
    const w = new Worker(WORKER, { eval: true, workerData: { src, dst, begin, end } });
    workers.push(w);
    ready.push(new Promise((r) => w.once('message', r)));
  }
  try {
    await Promise.all(ready);
    let best = Infinity;
    for (let r = 0; r < runs + 1; r++) {
      const t0 = performance.now();
      await Promise.all(workers.map((w) => new Promise((res) => { w.once('message', res); w.postMessage(0); })));
      const ms = performance.now() - t0;
      if (r > 0) best = Math.min(best, ms); // the first run is a warm-up
    }
    return { bytesPerSecond: (2 * n * 8) / (best / 1e3), bestMs: best, threads, bufferBytes: n * 8 };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
