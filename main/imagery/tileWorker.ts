import { parentPort, workerData } from 'node:worker_threads';
import { VantageError } from '../contract/errors.js';
import { TileEngine } from './tileEngine.js';
import type { TileReply, TileRequest } from './tileProtocol.js';

/** Worker entry (bundled as dist/main/tileWorker.mjs): renders tiles so the main event loop only routes. */
const port = parentPort;
if (!port) throw new Error('tileWorker must run as a worker thread');
const engine = new TileEngine(Number((workerData as { cacheBytes?: number } | null)?.cacheBytes) || 256 * 1024 * 1024);

async function handle(msg: TileRequest): Promise<Uint8Array | null> {
  switch (msg.op) {
    case 'tile':
      return engine.tile(msg.id, msg.path, msg.overviews, msg.display, msg.z, msg.x, msg.y, msg.sarScale, msg.pad ?? 0);
    case 'rgb':
      return engine.rgb(msg.id, msg.path, msg.overviews, msg.rect, msg.outW, msg.outH);
    case 'overviews':
      await engine.buildOverviews(msg.path, msg.dir, (progress) => port!.postMessage({ seq: msg.seq, progress } satisfies TileReply));
      return null;
    case 'release':
      await engine.release(msg.id);
      return null;
  }
}

port.on('message', (msg: TileRequest) => {
  handle(msg).then(
    (data) => {
      // copy out of sharp's pooled buffer so the transfer hands over exactly these bytes
      const own = data ? new Uint8Array(data) : null;
      port.postMessage({ seq: msg.seq, ok: true, data: own } satisfies TileReply, own ? [own.buffer] : []);
    },
    (e: unknown) => {
      const err = e instanceof VantageError ? e : new VantageError('INTERNAL', `tile worker: ${(e as Error)?.message ?? String(e)}`);
      port.postMessage({ seq: msg.seq, ok: false, error: err.toPayload() } satisfies TileReply);
    },
  );
});
