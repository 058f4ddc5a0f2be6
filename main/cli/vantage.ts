import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, rendererDir } from '../appPaths.js';
import { createServices } from '../boot.js';
import { ASK_USAGE, runAsk } from './askCommand.js';
import { CHANGE_USAGE, runChange } from './changeCommand.js';
import { PACKS_USAGE, runPacks } from './packsCommand.js';
import { parsePixelArg, pixelLines } from './pixelReport.js';
import { REPORT_USAGE, runReport } from './reportCommand.js';
import { SEGMENT_USAGE, runSegment } from './segmentCommand.js';
import { SESSIONS_USAGE, runSessions } from './sessionsCommand.js';
import type { PixelInfo } from '../contract/calls/imagery.js';
import { VantageError } from '../contract/errors.js';
import { ImageryService } from '../imagery/imageryService.js';
import { startLoopbackServer } from '../server/loopbackServer.js';

const USAGE = `usage: vantage [--data-dir DIR] <command> [options]

commands:
  serve [--port N] [--pack DIR]       run the services behind the loopback server; prints the URL to open
  info IMAGE [--pixel X,Y] [--sar-scale db|linear|amplitude] [--json]
                                      what Vantage reads from an image: size, bands, dtype, CRS, footprint, source
                                      kind; --pixel: what the pixel inspector shows at column X, row Y;
                                      --sar-scale: how the SAR values are stored, overriding the decided scale
${ASK_USAGE}
${SEGMENT_USAGE}
${CHANGE_USAGE}
${REPORT_USAGE}
${SESSIONS_USAGE}
${PACKS_USAGE}

global options:
  --data-dir DIR   where the case database and caches live (default: ${defaultDataDir()})
  --json           machine-readable output
`;

type Out = { json: boolean };

function fail(message: string, code = 2): never {
  process.stderr.write(`vantage: ${message}\n`);
  process.exit(code);
}

function requireFile(p: string | undefined, what: string): string {
  if (!p) fail(`missing ${what}\n\n${USAGE}`);
  const abs = path.resolve(p);
  if (!existsSync(abs)) fail(`${what} not found: ${abs}`);
  return abs;
}

async function cmdInfo(args: string[], out: Out) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { pixel: { type: 'string' }, 'sar-scale': { type: 'string' } } });
  const file = requireFile(positionals[0], 'IMAGE');
  const scale = values['sar-scale'];
  if (scale !== undefined && scale !== 'db' && scale !== 'linear' && scale !== 'amplitude') fail(`--sar-scale expects db, linear or amplitude, got "${scale}"`);
  const imagery = new ImageryService({});
  try {
    const facts = await imagery.register('cli', file);
    if (scale) await imagery.setSarScale('cli', scale);
    const decision = await imagery.sourceDecision('cli');
    let pixel: PixelInfo | null = null;
    if (values.pixel !== undefined) {
      const [x, y] = parsePixelArg(values.pixel, facts.name, facts.width, facts.height);
      pixel = await imagery.pixel('cli', x, y);
    }
    if (out.json) {
      process.stdout.write(JSON.stringify({ path: file, ...facts, sourceDecision: decision, ...(pixel ? { pixel } : {}) }, null, 2) + '\n');
      return;
    }
    if (pixel) {
      process.stdout.write(`${facts.name}\n${pixelLines(pixel, decision, facts.nodata).join('\n')}\n`);
      return;
    }
    const lines = [
      `${facts.name}  ${facts.width} × ${facts.height} px, ${facts.bandCount} band(s) ${facts.dtype}, source ${facts.source}`,
      `kind        ${decision.kind} (${decision.why})${decision.calibration ? `; ${decision.calibration.quantity} in ${decision.calibration.unit} (${decision.calibration.why})` : ''}${decision.alphaBand !== null ? `; band ${decision.alphaBand + 1} is alpha` : ''}`,
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
  const services = createServices({ dataDir, mode: 'browser', singleInstance: true, ...(values.pack ? { packDir: path.resolve(values.pack) } : {}) });
  services.models.warmUp();
  const staticDir = existsSync(path.join(rendererDir(), 'index.html')) ? rendererDir() : null;
  if (!staticDir) process.stderr.write('vantage: renderer not built (run `npm run build`); serving the API only\n');
  // dropped files reach a browser page as bytes only: they are stored in the imports folder and opened from there
  const uploads = { dir: path.join(dataDir, 'imports'), refFor: (p: string) => services.files.refFor(p, 'file') };
  const server = await startLoopbackServer({ dispatcher: services.dispatcher, staticDir, port, uploads, log: (m) => process.stderr.write(`[vantage] ${m}\n`) });
  process.stdout.write(`${server.url}\n`);
  const stop = async () => {
    await server.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
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
      return runAsk(rest, { dataDir, json: out.json });
    case 'segment':
      return runSegment(rest, { dataDir, json: out.json });
    case 'report':
      return runReport(rest, { dataDir, json: out.json });
    case 'change':
      return runChange(rest, { dataDir, json: out.json });
    case 'sessions':
      return runSessions(rest, { dataDir, json: out.json });
    case 'packs':
      return runPacks(rest, { dataDir, json: out.json });
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = VantageError.from(err);
  if (e.code === 'INTERNAL' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  fail(e.message, 1);
});
