import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commandServices } from './commandServices.js';
import type { ChatEvent, RegionGeometry } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import { cleanModelText } from '../contract/modelText.js';
import { packProvenanceOf } from '../packs/packSignature.js';
import { TASK_MODES, TaskMode } from '../contract/taskModes.js';

export const ASK_USAGE = `  ask IMAGE [--pack DIR] [regions…] [--mode MODE] [--temperature T] [--top-p P] [--max-tokens N]
      [--save [--session ID]] [--json] "question"
                                      ask the model about an image; regions in image pixels, repeatable:
                                      --point x,y  --box x0,y0,x1,y1  --circle cx,cy,r  --scribble "x,y;x,y;…"
                                      --polygon "x,y;x,y;…"; MODE: ${TASK_MODES.join(', ')}
                                      (segment = referring segmentation); --save stores the turn in a case`;

export interface AskContext {
  dataDir: string;
  json: boolean;
}

type Mask = Extract<ChatEvent, { type: 'mask' }>['mask'];
type DoneTurn = Extract<ChatEvent, { type: 'done' }>['turn'];

function bad(message: string): never {
  throw new VantageError('BAD_INPUT', message);
}

function numbers(value: string, count: number, flag: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== count || parts.some((n) => !Number.isFinite(n))) bad(`${flag} expects ${count} comma-separated numbers, got "${value}"`);
  return parts;
}

function pointList(value: string, flag: string, min: number): [number, number][] {
  const pts = value
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((p) => numbers(p, 2, flag) as [number, number]);
  if (pts.length < min) bad(`${flag} needs at least ${min} points "x,y;x,y;…", got ${pts.length}`);
  return pts;
}

function number(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) bad(`${flag} expects a number from ${min} to ${max}, got "${value}"`);
  return n;
}

/**
 * `vantage ask`: one question about an image, with regions, task mode and sampling. Without --save nothing is
 * stored (the question runs in a throw-away data folder); with --save the turn lands in a case (new, or --session).
 */
export async function runAsk(args: string[], ctx: AskContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pack: { type: 'string' },
      point: { type: 'string', multiple: true },
      box: { type: 'string', multiple: true },
      circle: { type: 'string', multiple: true },
      scribble: { type: 'string', multiple: true },
      polygon: { type: 'string', multiple: true },
      mode: { type: 'string', default: 'chat' },
      temperature: { type: 'string', default: '0' },
      'top-p': { type: 'string', default: '1' },
      'max-tokens': { type: 'string', default: '64' },
      seed: { type: 'string', default: '0' },
      save: { type: 'boolean', default: false },
      session: { type: 'string' },
    },
  });
  const file = positionals[0] ? path.resolve(positionals[0]) : bad(`missing IMAGE\n\n${ASK_USAGE}`);
  if (!existsSync(file)) throw new VantageError('NOT_FOUND', `IMAGE not found: ${file}`);
  const text = positionals.slice(1).join(' ').trim();
  const modeParsed = TaskMode.safeParse(values.mode);
  if (!modeParsed.success) bad(`--mode must be one of ${TASK_MODES.join(', ')}, got "${values.mode}"`);
  const mode = modeParsed.data;
  let packDir: string | undefined;
  if (values.pack) {
    packDir = path.resolve(values.pack);
    if (!existsSync(packDir) || !statSync(packDir).isDirectory()) bad(`--pack must be a model pack folder: ${packDir}`);
  }
  if (values.session && !values.save) bad('--session needs --save (without --save nothing is stored)');
  const maxNewTokens = number(values['max-tokens'], '--max-tokens', 1, 2048);
  const temperature = number(values.temperature, '--temperature', 0, 5);
  const topP = number(values['top-p'], '--top-p', 0.001, 1);
  const seed = number(values.seed, '--seed', 0, 2 ** 31);
  const regions: RegionGeometry[] = [
    ...(values.point ?? []).map((p): RegionGeometry => {
      const [x, y] = numbers(p, 2, '--point') as [number, number];
      return { kind: 'point', x, y };
    }),
    ...(values.box ?? []).map((b): RegionGeometry => {
      const [x0, y0, x1, y1] = numbers(b, 4, '--box') as [number, number, number, number];
      return { kind: 'box', x0, y0, x1, y1 };
    }),
    ...(values.circle ?? []).map((c): RegionGeometry => {
      const [cx, cy, r] = numbers(c, 3, '--circle') as [number, number, number];
      if (!(r > 0)) bad(`--circle radius must be positive, got ${r}`);
      return { kind: 'circle', cx, cy, r };
    }),
    ...(values.scribble ?? []).map((s): RegionGeometry => ({ kind: 'scribble', points: pointList(s, '--scribble', 2), width: 8 })),
    ...(values.polygon ?? []).map((s): RegionGeometry => ({ kind: 'polygon', points: pointList(s, '--polygon', 3) })),
  ];

  const { services, close } = await commandServices(ctx.dataDir, !!values.save, packDir, 'ask');
  const t0 = performance.now();
  try {
    const session = values.session
      ? services.sessions.open(values.session).then((s) => s.session)
      : Promise.resolve(services.sessions.create(`CLI ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`));
    const sessionId = (await session).id;
    const image = await services.sessions.openImage(sessionId, file);
    const tLoad = performance.now();
    await services.models.ensureReady();
    const loadMs = performance.now() - tLoad;
    const masks: Mask[] = [];
    let done: DoneTurn | null = null;
    let tokens = 0;
    let firstTokenMs: number | null = null;
    // the terminal shows the answer as the analyst reads it in the app (cleanModelText), streamed as it grows
    let rawText = '';
    let printed = '';
    const show = (clean: string) => {
      if (!clean.startsWith(printed)) return; // a tidy-up that rewrote the shown part: wait for the final text
      process.stdout.write(clean.slice(printed.length));
      printed = clean;
    };
    const tAsk = performance.now();
    await services.dispatcher.subscribe(
      'chat.ask',
      { sessionId, imageId: image.id, text, regions, mode, maxNewTokens, temperature, topP, seed },
      (raw) => {
        const e = raw as ChatEvent;
        if (e.type === 'token') {
          tokens++;
          firstTokenMs ??= performance.now() - tAsk;
          rawText += e.text;
          if (!ctx.json) show(cleanModelText(rawText));
        }
        if (e.type === 'mask') masks.push(e.mask);
        if (e.type === 'done') done = e.turn;
      },
      new AbortController().signal,
    );
    const turn = done as DoneTurn | null;
    const model = services.models.status();
    const saved = values.save ? sessionId : null;
    if (ctx.json) {
      process.stdout.write(
        JSON.stringify(
          {
            sessionId: saved,
            imageId: saved ? image.id : null,
            mode,
            /** as the analyst reads it (chat, PDF, exports); `rawAnswer`: the model's own text, markup included */
            answer: cleanModelText(turn?.text ?? ''),
            rawAnswer: turn?.text ?? '',
            tokens,
            provider: turn?.provider ?? null,
            stageProviders: model.stageProviders,
            decode: model.decode ?? null,
            pack: packProvenanceOf(model.pack),
            durationMs: turn?.durationMs ?? null,
            timings: { loadMs, firstTokenMs, answerMs: turn?.durationMs ?? null, totalMs: performance.now() - t0 },
            masks: masks.map((m) => ({ id: saved ? m.id : null, phrase: m.phrase, score: m.score, bbox: m.bbox, areaPx: m.areaPx, parts: m.polygons.length })),
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      const final = cleanModelText(turn?.text ?? rawText);
      if (final.startsWith(printed)) show(final);
      else process.stdout.write(`\n${final}`);
      process.stdout.write('\n');
      for (const m of masks) {
        process.stdout.write(`mask ${m.phrase ? `"${m.phrase}" ` : ''}score ${m.score.toFixed(3)} area ${m.areaPx.toFixed(0)} px bbox [${m.bbox.map((v) => v.toFixed(1)).join(', ')}]\n`);
      }
      const eps = Object.entries(model.stageProviders).map(([s, p]) => `${s}:${p}`).join(' ');
      process.stdout.write(`(${model.pack?.name ?? '?'} · ${eps} · ${model.decode ?? 'stock binding'} · ${tokens} tokens · ${turn?.durationMs?.toFixed(0) ?? '?'} ms${saved ? ` · saved in case ${saved}` : ' · not saved (use --save)'})\n`);
    }
  } finally {
    await close();
  }
}
