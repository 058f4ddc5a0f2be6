import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServices } from '../boot.js';
import { ReportExtent, type ExportResult, type MeasuredObject, type ReportKind } from '../contract/calls/reports.js';
import { VantageError } from '../contract/errors.js';

export const REPORT_USAGE = `  report --session ID [--geojson F] [--gpkg F] [--pdf F] [--simplify M] [--analyst NAME] [--title T]
         [--extent minLon,minLat,maxLon,maxLat] [--json]
                                      measured objects of a case; writes GeoJSON / GeoPackage / PDF (not the case file)`;

export interface ReportContext {
  dataDir: string;
  json: boolean;
}

function fmtArea(o: MeasuredObject): string {
  if (o.areaM2 === null) return `${o.areaPx.toFixed(0)} px`;
  return `${o.areaM2.toFixed(0)} m² (${o.areaHa!.toFixed(3)} ha), perimeter ${o.perimeterM!.toFixed(0)} m`;
}

/** "minLon,minLat,maxLon,maxLat" → the PDF map's WGS84 extent, checked by the contract's schema. */
export function parseExtent(spec: string): ReportExtent {
  const nums = spec.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  const parsed = ReportExtent.safeParse({ kind: 'wgs84', bbox: nums });
  if (nums.length !== 4 || !parsed.success) {
    throw new VantageError('BAD_INPUT', `--extent expects minLon,minLat,maxLon,maxLat in degrees (west < east, south < north), got "${spec}"`);
  }
  return parsed.data;
}

/** `vantage report --session ID`: lists the case's measured objects and writes the requested exports. */
export async function runReport(args: string[], ctx: ReportContext): Promise<void> {
  // "--extent -78.2,…" starts with a minus: parseArgs would take it for an option, so glue it to its flag
  const glued = args.flatMap((a, i) => (args[i - 1] === '--extent' ? [] : a === '--extent' && i + 1 < args.length ? [`--extent=${args[i + 1]}`] : [a]));
  const { values } = parseArgs({
    args: glued,
    options: {
      session: { type: 'string' },
      geojson: { type: 'string' },
      gpkg: { type: 'string' },
      pdf: { type: 'string' },
      simplify: { type: 'string' },
      analyst: { type: 'string' },
      title: { type: 'string' },
      extent: { type: 'string' },
    },
  });
  if (!values.session) throw new VantageError('BAD_INPUT', `--session ID is required\n${REPORT_USAGE}`);
  const simplifyM = values.simplify === undefined ? 0 : Number(values.simplify);
  if (!Number.isFinite(simplifyM) || simplifyM < 0) throw new VantageError('BAD_INPUT', `--simplify expects metres ≥ 0, got "${values.simplify}"`);
  const extent = values.extent === undefined ? undefined : parseExtent(values.extent);
  const services = createServices({ dataDir: ctx.dataDir, mode: 'browser' });
  // the command's own work keeps the process alive: image reads for the PDF map may run in unref'd pool workers,
  // and with nothing else pending Node would exit mid-export with status 0 and no file
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    const { objects } = services.reports.objects(values.session);
    const written: (ExportResult & { path: string })[] = [];
    for (const kind of ['geojson', 'gpkg', 'pdf'] as ReportKind[]) {
      const file = values[kind];
      if (file === undefined) continue;
      const filePath = path.resolve(file);
      const r = await services.reports.export({ sessionId: values.session, kind, simplifyM, filePath,
        ...(values.analyst ? { analyst: values.analyst } : {}),
        ...(values.title ? { title: values.title } : {}),
        ...(extent && kind === 'pdf' ? { extent } : {}),
      });
      written.push({ ...r, path: filePath });
    }
    if (ctx.json) {
      process.stdout.write(JSON.stringify({ sessionId: values.session, objects, written }, null, 2) + '\n');
      return;
    }
    objects.forEach((o, i) => {
      process.stdout.write(`${i + 1}. ${o.label}  score ${o.score.toFixed(3)}  ${fmtArea(o)}${o.touchesEdge ? '  (reaches the image edge)' : ''}${o.problem ? `  NOT EXPORTABLE: ${o.problem}` : ''}\n`);
    });
    if (objects.length === 0) process.stdout.write('no masks in this case yet\n');
    for (const w of written) {
      process.stdout.write(`wrote ${w.path} (${w.kind}, ${w.featureCount} object(s), ${w.bytes} bytes)\n`);
      for (const warning of w.warnings) process.stdout.write(`  note: ${warning}\n`);
    }
  } finally {
    clearInterval(keepAlive);
    await services.close();
  }
}
