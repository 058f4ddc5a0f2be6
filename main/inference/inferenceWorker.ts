import { parentPort } from 'node:worker_threads';
import { VantageError } from '../contract/errors.js';
import { toPackInfo } from './packManifest.js';
import { InferencePipeline } from './pipeline.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

/**
 * Worker entry that owns the pipeline: onnxruntime runs here so the main event loop never blocks on a
 * session. Requests are handled as they arrive; `cancel` aborts the matching ask between two decoder steps.
 */

const port = parentPort;
if (!port) throw new Error('inferenceWorker must run in a worker_threads Worker');

const SLOW_MS = 30_000;
let pipeline: InferencePipeline | null = null;
/** loads are serialised so a second init never races the first over the sessions */
let loading: Promise<unknown> = Promise.resolve();
const asks = new Map<string, AbortController>();

function send(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function fail(seq: number, err: unknown): void {
  send({ type: 'error', seq, error: VantageError.from(err).toPayload() });
}

function requirePipeline(): InferencePipeline {
  if (!pipeline) throw new VantageError('CONFLICT', 'no model pack is loaded; load a pack first');
  return pipeline;
}

async function handle(msg: WorkerRequest): Promise<void> {
  const started = performance.now();
  switch (msg.type) {
    case 'init': {
      const run = loading.then(async () => {
        const old = pipeline;
        pipeline = null;
        await old?.dispose();
        const p = await InferencePipeline.create(msg.packDir, { forced: msg.forcedProvider, webgpuAdapterKnown: msg.webgpuAdapterKnown, webgpuReason: msg.webgpuReason });
        pipeline = p;
        const v = p.pack.manifest.view;
        send({
          type: 'ready',
          seq: msg.seq,
          pack: toPackInfo(p.pack),
          stageProviders: p.stageProviders,
          providers: p.providers,
          decode: p.decodePath,
          view: { size: v.size, maxViews: v.maxViews, maxImagePixels: v.maxImagePixels, resample: v.resample, pad: v.pad, mean: [...v.mean], instant: p.pack.manifest.grounding?.preprocess, groundingSize: p.pack.manifest.grounding?.size ?? v.size },
          sources: [...p.pack.manifest.sources],
          capabilities: p.capabilities,
        });
      });
      loading = run.catch(() => undefined);
      await run;
      break;
    }
    case 'ask': {
      const p = requirePipeline();
      const ctl = new AbortController();
      asks.set(msg.requestId, ctl);
      try {
        const r = await p.ask(
          msg.input,
          {
            onToken: (index, text) => send({ type: 'token', seq: msg.seq, index, text }),
            onMask: (mask) => send({ type: 'mask', seq: msg.seq, mask }, [mask.data.buffer as ArrayBuffer]),
          },
          ctl.signal,
        );
        const transfer = r.trace ? [r.trace.firstLogits.buffer as ArrayBuffer] : [];
        send({ type: 'done', seq: msg.seq, text: r.text, durationMs: r.durationMs, provider: r.provider, tokens: r.tokens, ...(r.trace ? { trace: r.trace } : {}) }, transfer);
      } finally {
        asks.delete(msg.requestId);
      }
      break;
    }
    case 'cancel':
      asks.get(msg.requestId)?.abort();
      send({ type: 'cancelled', seq: msg.seq });
      break;
    case 'instantMask': {
      const mask = await requirePipeline().instantMask(msg.view, msg.prompt);
      send({ type: 'instantMask', seq: msg.seq, mask }, [mask.data.buffer as ArrayBuffer]);
      break;
    }
    case 'close':
      for (const c of asks.values()) c.abort();
      await loading;
      await pipeline?.dispose();
      pipeline = null;
      send({ type: 'closed', seq: msg.seq });
      port!.close();
      return;
  }
  const ms = performance.now() - started;
  if (ms > SLOW_MS && msg.type !== 'ask') send({ type: 'slow', seq: msg.seq, request: msg.type, ms });
}

port.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((err: unknown) => fail(msg.seq, err));
});
