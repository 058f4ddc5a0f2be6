import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, rendererDir } from '../appPaths.js';
import { createServices } from '../boot.js';
import type { ChatEvent, RegionGeometry } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import { ImageryService } from '../imagery/imageryService.js';
import { startLoopbackServer } from '../server/loopbackServer.js';

const USAGE = `usage: vantage [--data-dir DIR] <command> [options]

commands:
  serve [--port N] [--pack DIR]       run the services behind the loopback server; prints the URL to open
  info IMAGE [--json]                 what Vantage reads from an image: size, bands, dtype, CRS, footprint
  ask IMAGE --pack DIR [--point x,y | --box x0,y0,x1,y1] [--mode chat|ground] [--max-tokens N] [--json] "question"
                                      ask the model about an image (pixel coordinates); prints the answer and masks

global options:
  --data-dir DIR   where the case database and caches live (default: ${defaultDataDir()})
  --json           machine-readable output
`;

type Out = { json: boolean };

function fail(message: string, code = 2): never {
  process.stderr.write(`vantage: ${message}\n`);
  process.exit(code);
}

function parseNumbers(value: string, count: number, flag: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== count || parts.some((n) => !Number.isFinite(n))) fail(`${flag} expects ${count} comma-separated numbers, got "${value}"`);
  return parts;
}

function requireFile(p: string | undefined, what: string): string {
  if (!p) fail(`missing ${what}\n\n${USAGE}`);
  const abs = path.resolve(p);
  if (!existsSync(abs)) fail(`${what} not found: ${abs}`);
  return abs;
}

async function cmdInfo(args: string[], out: Out) {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const file = requireFile(positionals[0], 'IMAGE');
  const imagery = new ImageryService({});
  try {
    const facts = await imagery.inspect(file);
    if (out.json) {
      process.stdout.write(JSON.stringify({ path: file, ...facts }, null, 2) + '\n');
      return;
    }
    const lines = [
      `${facts.name}  ${facts.width} × ${facts.height} px, ${facts.bandCount} band(s) ${facts.dtype}, source ${facts.source}`,
      `nodata      ${facts.nodata ?? 'none'}`,
      `CRS         ${facts.crs ? (facts.crs.epsg ? `EPSG:${facts.crs.epsg}` : 'custom') + (facts.crs.name ? ` (${facts.crs.name})` : '') : 'none (not georeferenced)'}`,
      `transform   ${facts.geotransform ? facts.geotransform.join(', ') : facts.gcps ? `${facts.gcps.length} GCPs` : 'none'}`,
      `overviews   ${facts.overviewCount}`,
      `footprint   ${facts.footprint ? facts.footprint.slice(0, -1).filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 4)) === 0).map(([x, y]) => `${x.toFixed(5)},${y.toFixed(5)}`).join('  ') : 'n/a'}`,
      `sha256      ${facts.sha256}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await imagery.close();
  }
}

async function cmdServe(args: string[], dataDir: string) {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, pack: { type: 'string' } } });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port expects a port number, got "${values.port}"`);
  const services = createServices({ dataDir, mode: 'browser', ...(values.pack ? { packDir: path.resolve(values.pack) } : {}) });
  services.models.warmUp();
  const staticDir = existsSync(path.join(rendererDir(), 'index.html')) ? rendererDir() : null;
  if (!staticDir) process.stderr.write('vantage: renderer not built (run `npm run build`); serving the API only\n');
  const server = await startLoopbackServer({ dispatcher: services.dispatcher, staticDir, port, log: (m) => process.stderr.write(`[vantage] ${m}\n`) });
  process.stdout.write(`${server.url}\n`);
  const stop = async () => {
    await server.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

async function cmdAsk(args: string[], dataDir: string, out: Out) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pack: { type: 'string' },
      point: { type: 'string', multiple: true },
      box: { type: 'string', multiple: true },
      mode: { type: 'string', default: 'chat' },
      'max-tokens': { type: 'string', default: '64' },
    },
  });
  const file = requireFile(positionals[0], 'IMAGE');
  const question = positionals.slice(1).join(' ').trim();
  if (!question) fail('missing the question text');
  if (!values.pack) fail('--pack DIR is required (a model pack folder)');
  const packDir = requireFile(values.pack, 'model pack folder');
  if (!statSync(packDir).isDirectory()) fail(`--pack must be a folder: ${packDir}`);
  if (values.mode !== 'chat' && values.mode !== 'ground') fail(`--mode must be chat or ground, got "${values.mode}"`);
  const maxNewTokens = Number(values['max-tokens']);
  const regions: RegionGeometry[] = [
    ...(values.point ?? []).map((p): RegionGeometry => {
      const [x, y] = parseNumbers(p, 2, '--point') as [number, number];
      return { kind: 'point', x, y };
    }),
    ...(values.box ?? []).map((b): RegionGeometry => {
      const [x0, y0, x1, y1] = parseNumbers(b, 4, '--box') as [number, number, number, number];
      return { kind: 'box', x0, y0, x1, y1 };
    }),
  ];
  const services = createServices({ dataDir, mode: 'browser', packDir });
  try {
    const session = services.sessions.create(`CLI ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`);
    const image = await services.sessions.openImage(session.id, file);
    const masks: Extract<ChatEvent, { type: 'mask' }>['mask'][] = [];
    let done: Extract<ChatEvent, { type: 'done' }>['turn'] | null = null;
    await services.dispatcher.subscribe(
      'chat.ask',
      { sessionId: session.id, imageId: image.id, text: question, regions, mode: values.mode, maxNewTokens },
      (raw) => {
        const e = raw as ChatEvent;
        if (e.type === 'token' && !out.json) process.stdout.write(e.text);
        if (e.type === 'mask') masks.push(e.mask);
        if (e.type === 'done') done = e.turn;
      },
      new AbortController().signal,
    );
    const turn = done as Extract<ChatEvent, { type: 'done' }>['turn'] | null;
    const model = services.models.status();
    if (out.json) {
      process.stdout.write(
        JSON.stringify(
          {
            sessionId: session.id,
            imageId: image.id,
            answer: turn?.text ?? '',
            provider: turn?.provider ?? null,
            pack: model.pack ? { name: model.pack.name, version: model.pack.version, sha256: model.pack.sha256 } : null,
            durationMs: turn?.durationMs ?? null,
            masks: masks.map((m) => ({ id: m.id, phrase: m.phrase, score: m.score, bbox: m.bbox, areaPx: m.areaPx, parts: m.polygons.length })),
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      process.stdout.write('\n');
      for (const m of masks) {
        process.stdout.write(
          `mask ${m.phrase ? `"${m.phrase}" ` : ''}score ${m.score.toFixed(3)} area ${m.areaPx.toFixed(0)} px bbox [${m.bbox.map((v) => v.toFixed(1)).join(', ')}]\n`,
        );
      }
      process.stdout.write(`(${turn?.provider ?? '?'} · ${model.pack?.name ?? '?'} · ${turn?.durationMs?.toFixed(0) ?? '?'} ms · case ${session.id})\n`);
    }
  } finally {
    await services.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  // everything after the command, minus the global options, goes to the subcommand
  const globalIdx = new Set<number>();
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && (t.name === 'data-dir' || t.name === 'json' || t.name === 'help')) {
      globalIdx.add(t.index);
      if (t.inlineValue === false && t.name === 'data-dir') globalIdx.add(t.index + 1);
    }
  }
  const cmdIdx = argv.indexOf(command);
  const rest = argv.filter((_, i) => i > cmdIdx && !globalIdx.has(i));
  const dataDir = path.resolve(typeof values['data-dir'] === 'string' ? values['data-dir'] : defaultDataDir());
  const out: Out = { json: values.json === true };
  switch (command) {
    case 'serve':
      return cmdServe(rest, dataDir);
    case 'info':
      return cmdInfo(rest, out);
    case 'ask':
      return cmdAsk(rest, dataDir, out);
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = VantageError.from(err);
  if (e.code === 'INTERNAL' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  fail(e.message, 1);
});
