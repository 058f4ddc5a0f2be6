import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { CaseRepository, ReportRecord } from '../../db/repository.js';
import type { ReportKind, ReportSummary } from '../contract/calls/reports.js';
import { VantageError } from '../contract/errors.js';
import type { OutputOf, ParsedInputOf } from '../contract/procedures.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import { writeFileAtomic, freeName } from './atomicFile.js';
import { readCase, selectForExport } from './caseObjects.js';
import { buildGeojson } from './geojsonExport.js';
import { buildGeopackage } from './geopackageWriter.js';
import { buildPdf } from './pdfReport.js';

const EXT: Record<ReportKind, string> = { geojson: 'geojson', gpkg: 'gpkg', pdf: 'pdf' };

type ExportResult = OutputOf<'reports.export'>;

/** reports.export's input, with the folder's FileRef resolved to a path (or the CLI's exact file). */
export type ExportRequest = Omit<ParsedInputOf<'reports.export'>, 'folder'> & {
  /** folder to write into (resolved from the user's FileRef); the first image's folder when absent */
  folderPath?: string;
  /** exact destination file (the CLI's --geojson F); wins over folderPath */
  filePath?: string;
};

/**
 * Reports and vector exports, made only from what the case database holds (a reopened case gives the same
 * files). Every export is stored in the case (reports table) and written atomically.
 */
export class ReportService {
  constructor(
    private readonly repo: CaseRepository,
    private readonly imagery: ImageryPort,
    private readonly appVersion: string,
  ) {}

  objects(sessionId: string): OutputOf<'reports.objects'> {
    return { objects: readCase(this.repo, sessionId).objects.map((o) => o.summary) };
  }

  list(sessionId: string): OutputOf<'reports.list'> {
    this.repo.getSession(sessionId);
    return this.repo.listReports(sessionId).map((r) => summaryOf(r));
  }

  async export(req: ExportRequest): Promise<ExportResult> {
    const snapshot = readCase(this.repo, req.sessionId, { simplifyM: req.simplifyM });
    const objects = selectForExport(snapshot, req.maskIds, { allowNone: req.kind === 'pdf' });
    const warnings = objects.flatMap((o) => o.summary.notes);
    const createdAt = new Date().toISOString();
    let bytes: Uint8Array;
    if (req.kind === 'geojson') bytes = new TextEncoder().encode(buildGeojson(snapshot, objects));
    else if (req.kind === 'gpkg') {
      try {
        bytes = buildGeopackage(snapshot, objects);
      } catch (err) {
        throw new VantageError('BAD_INPUT', `GeoPackage not written: ${(err as Error).message}`);
      }
    } else {
      bytes = await buildPdf(snapshot, objects, this.imagery, {
        title: req.title?.trim() || `Vantage report: ${snapshot.session.name}`,
        analyst: req.analyst?.trim() || safeUserName(),
        createdAt,
        appVersion: this.appVersion,
        extent: req.extent ?? { kind: 'case' },
      });
    }
    const dest = this.destination(req, snapshot.images[0]?.path ?? null, snapshot.session.name, createdAt);
    writeFileAtomic(dest, bytes);
    const rec = this.repo.addReport({
      sessionId: req.sessionId,
      kind: req.kind,
      fileName: path.basename(dest),
      path: dest,
      createdAt,
      options: {
        maskIds: req.maskIds ?? null,
        simplifyM: req.simplifyM,
        analyst: req.analyst ?? null,
        title: req.title ?? null,
        extent: req.kind === 'pdf' ? (req.extent ?? { kind: 'case' }) : null,
      },
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      featureCount: objects.length,
    });
    return { ...summaryOf(rec), warnings };
  }

  /** Writes a stored report again, byte for byte (to its folder, or another one). */
  rewrite(reportId: string, folderPath?: string): OutputOf<'reports.rewrite'> {
    const rec = this.repo.getReport(reportId);
    const folder = folderPath ?? (rec.path ? path.dirname(rec.path) : null);
    if (!folder) throw new VantageError('BAD_INPUT', `report ${rec.fileName} has no folder recorded: choose one`);
    assertFolder(folder);
    const ext = EXT[rec.kind];
    const dest = path.join(folder, freeName(folder, rec.fileName.replace(new RegExp(`\\.${ext}$`), ''), ext));
    writeFileAtomic(dest, rec.bytes);
    this.repo.setReportPath(rec.id, dest);
    return { ...summaryOf({ ...rec, fileName: path.basename(dest), path: dest }), warnings: [] };
  }

  private destination(req: ExportRequest, imagePath: string | null, caseName: string, createdAt: string): string {
    if (req.filePath) {
      assertFolder(path.dirname(req.filePath));
      return path.resolve(req.filePath);
    }
    const folder = req.folderPath ?? (imagePath ? path.dirname(imagePath) : null);
    if (!folder) throw new VantageError('BAD_INPUT', 'this case has no image: choose a folder for the export');
    assertFolder(folder);
    const slug = caseName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'case';
    const stamp = createdAt.slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    return path.join(folder, freeName(folder, `${slug}-${stamp}`, EXT[req.kind]));
  }
}

function assertFolder(folder: string): void {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new VantageError('NOT_FOUND', `the export folder ${folder} does not exist: choose another one`);
  }
}

function safeUserName(): string {
  try {
    return userInfo().username || 'analyst';
  } catch {
    return 'analyst';
  }
}

function summaryOf(r: ReportRecord): ReportSummary {
  return {
    id: r.id,
    kind: r.kind,
    fileName: r.fileName,
    folderName: r.path ? path.basename(path.dirname(r.path)) : null,
    createdAt: r.createdAt,
    bytes: r.size,
    featureCount: r.featureCount,
    title: typeof r.options.title === 'string' ? r.options.title : null,
    analyst: typeof r.options.analyst === 'string' ? r.options.analyst : null,
  };
}
