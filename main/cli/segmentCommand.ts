import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commandServices } from './commandServices.js';
import { CLASSICAL_MASK_NOTE, type BatchEvent, type BatchResult } from '../contract/calls/chat.js';
import { VantageError } from '../contract/errors.js';

export const SEGMENT_USAGE = `  segment IMAGE --prompts FILE.geojson [--pack DIR] [--save [--session ID]] [--json]
                                      an instant mask per Point / Polygon bbox of a GeoJSON file (WGS84, or the
                                      image's EPSG in a "crs" member; at most 5,000); prints area/score per feature
                                      and a summary; --save stores the masks in a case`;

export interface SegmentContext {
  dataDir: string;
  json: boolean;
}

function bad(message: string): never {
  throw new VantageError('BAD_INPUT', message);
}

/**
 * `vantage segment`: batch prompts (chat.batchMasks through the dispatcher, as the app runs them). Without --save the
 * batch runs in a throw-away data folder; with --save the masks land in a case (new, or --session). Ctrl-C cancels
 * and stores nothing.
 */
export async function runSegment(args: string[], ctx: SegmentContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      prompts: { type: 'string' },
      pack: { type: 'string' },
      save: { type: 'boolean', default: false },
      session: { type: 'string' },
    },
  });
  const image = positionals[0] ? path.resolve(positionals[0]) : bad(`missing IMAGE\n\n${SEGMENT_USAGE}`);
  if (!existsSync(image)) throw new VantageError('NOT_FOUND', `IMAGE not found: ${image}`);
  const prompts = values.prompts ? path.resolve(values.prompts) : bad(`missing --prompts FILE.geojson\n\n${SEGMENT_USAGE}`);
  if (!existsSync(prompts)) throw new VantageError('NOT_FOUND', `prompts file not found: ${prompts}`);
  let packDir: string | undefined;
  if (values.pack) {
    packDir = path.resolve(values.pack);
    if (!existsSync(packDir) || !statSync(packDir).isDirectory()) bad(`--pack must be a model pack folder: ${packDir}`);
  }
  if (values.session && !values.save) bad('--session needs --save (without --save nothing is stored)');

  const { services, close } = await commandServices(ctx.dataDir, !!values.save, packDir, 'segment');
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  try {
    const sessionId = values.session
      ? (await services.sessions.open(values.session)).session.id
      : services.sessions.create(`CLI segment ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`).id;
    const img = await services.sessions.openImage(sessionId, image);
    let result: BatchResult | null = null;
    let shown = -1;
    await services.dispatcher.subscribe(
      'chat.batchMasks',
      { sessionId, imageId: img.id, file: services.files.refFor(prompts, 'file'), save: values.save },
      (raw) => {
        const e = raw as BatchEvent;
        if (e.type === 'done') result = e.result;
        else if (!ctx.json && process.stderr.isTTY && e.done !== shown) {
          shown = e.done;
          process.stderr.write(`\r${e.done}/${e.total} prompts`);
        }
      },
      ac.signal,
    );
    if (!ctx.json && process.stderr.isTTY) process.stderr.write('\n');
    const r = result as BatchResult | null;
    if (!r) throw new VantageError('INTERNAL', 'the batch ended without a result');
    const saved = r.saved ? sessionId : null;
    if (ctx.json) {
      process.stdout.write(
        JSON.stringify(
          {
            sessionId: saved,
            imageId: saved ? img.id : null,
            method: r.method,
            total: r.total,
            masks: r.items.length - r.empty,
            skippedOutside: r.skippedOutside,
            empty: r.empty,
            stats: r.stats,
            features: r.items.map((i) => ({ index: i.index, label: i.label, kind: i.geometry.kind, geometry: i.geometry, score: i.score, areaPx: i.areaPx, bbox: i.bbox, cached: i.cached, maskId: i.maskId })),
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      for (const i of r.items) {
        process.stdout.write(
          `#${i.index} ${JSON.stringify(i.label)} ${i.geometry.kind}: ${i.bbox ? `area ${i.areaPx.toFixed(0)} px score ${i.score.toFixed(3)}` : 'no mask'}${i.cached ? ' (cached tile)' : ''}\n`,
        );
      }
      const s = r.stats;
      process.stdout.write(
        `${r.items.length - r.empty} masks from ${r.total} prompts · ${r.skippedOutside} outside the image (skipped) · ${r.empty} empty · ` +
          `${s.msPerPrompt.toFixed(1)} ms per prompt · ` +
          (r.method === 'classical' ? `${CLASSICAL_MASK_NOTE} · ` : `tiles ${s.tilesNew} new, ${s.tilesCached} cached · `) +
          `${saved ? `saved in case ${saved}` : 'not saved (use --save)'}\n`,
      );
    }
  } finally {
    process.off('SIGINT', onSigint);
    await close();
  }
}
