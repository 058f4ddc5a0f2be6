import { copyFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { copyCase } from '../../db/caseCopy.js';
import { allRowIds, assetChunkWriter, idsTaken, sealCaseFile, writeCaseExport } from '../../db/caseFiles.js';
import { CaseLifecycleRepository } from '../../db/caseLifecycle.js';
import { openDatabase, type Db } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import { VantageError } from '../contract/errors.js';
import type { OutputOf, ParsedInputOf } from '../contract/procedures.js';
import { processAlive } from '../util/processAlive.js';
import { joinUnder } from '../util/safePath.js';
import { commitFile, discard, tempBeside } from './atomicFile.js';
import { CASE_EXT, CHUNK, META, UUID, safeFileName } from '../../db/caseFormat.js';
import { READ_DEADLINE_MS, readDeadlineMs, runCaseReader } from './caseReaderProcess.js';
import { ASSETS_DIR, CLEAN_DB, type ReadResult } from '../../db/readCaseFile.js';

/** Work folders of imports in progress: `<data dir>/.import-<pid>-<random>`. */
const WORK_PREFIX = '.import-';

/** sessions.export's input, with `folder` the path its FileRef resolved to (the CLI passes a path it checked). */
export type ExportRequest = ParsedInputOf<'sessions.export'>;
/** sessions.export's answer, plus where the file was written (the CLI prints it; the page never sees paths). */
export type ExportResult = OutputOf<'sessions.export'> & { path: string };
/**
 * sessions.import's answer. `keptIds`: every id in the file was kept; `ids`: kept, or replaced by fresh ones — the
 * malformed ones (not UUIDs), or all of them when any is already in this database (the originals are kept as the
 * case's import provenance); `warnings`: what the file held that was not imported (a damaged embedded image).
 */
export type ImportResult = OutputOf<'sessions.import'>;

export interface CaseReaderOptions {
  /** the bundled case reader (dist/main/caseReader.mjs; tests bundle main/cases/caseFileReader.ts) */
  script: string;
  /** how long a reader may take before it is killed, plus an allowance per byte of the file (READ_DEADLINE_MS) */
  deadlineMs?: number;
}

/** What CaseFileService is given by whoever builds it (boot.ts): the reader, and how an imported case is measured. */
export interface CaseFileDeps {
  reader: CaseReaderOptions;
  /**
   * Measures every mask of a just-imported case again from its raster (masks/measure.ts remeasureCase): outlines
   * in a file are never trusted. Runs inside the import's transaction.
   */
  remeasure: (repo: CaseRepository, sessionId: string) => unknown;
}

/** File-system-safe name from a case name (slashes kept as underscores rather than cut). */
const safeName = (name: string) => safeFileName(name.replace(/[\\/]/g, '_'));

function uniquePath(folder: string, base: string, ext: string): string {
  for (let i = 1; ; i++) {
    const p = path.join(folder, i === 1 ? `${base}${ext}` : `${base} (${i})${ext}`);
    if (!existsSync(p)) return p;
  }
}

/**
 * A case as one portable `.vantage` file: a SQLite database with the app's own schema (so any SQLite tool can read
 * it), holding the case's rows, images by reference (path + sha256) and, on request, the image bytes themselves.
 * A case file is untrusted input (it arrives from other teams): see import().
 */
export class CaseFileService {
  private readonly repo: CaseRepository;
  private readonly life: CaseLifecycleRepository;
  private readonly reader: Required<CaseReaderOptions>;
  private readonly remeasure: CaseFileDeps['remeasure'];

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly appVersion: string,
    deps: CaseFileDeps,
  ) {
    this.repo = new CaseRepository(db);
    this.life = new CaseLifecycleRepository(db);
    this.reader = { script: deps.reader.script, deadlineMs: deps.reader.deadlineMs ?? READ_DEADLINE_MS };
    this.remeasure = deps.remeasure;
    this.removeStaleWork();
  }

  async export(opts: ExportRequest): Promise<ExportResult> {
    const session = this.life.live(opts.sessionId);
    if (!existsSync(opts.folder) || !statSync(opts.folder).isDirectory()) throw new VantageError('NOT_FOUND', `folder not found: ${opts.folder}`);
    const images = this.repo.listImages(session.id);
    if (opts.embedImages) {
      const missing = images.filter((i) => !existsSync(i.path));
      if (missing.length) {
        throw new VantageError('NOT_FOUND', `cannot embed ${missing.map((i) => path.basename(i.path)).join(', ')}: the file has moved or is missing; relink it first or export without embedding`);
      }
    }
    const target = uniquePath(opts.folder, safeName(session.name), CASE_EXT);
    const temp = tempBeside(target);
    discard(temp);
    try {
      const out = openDatabase(temp);
      try {
        writeCaseExport(this.db, out, session.id, {
          [META.sessionId]: session.id,
          [META.exportedAt]: new Date().toISOString(),
          [META.appVersion]: this.appVersion,
          [META.embedded]: String(opts.embedImages),
        });
        if (opts.embedImages) for (const img of images) embed(out, img.path, img.sha256);
        sealCaseFile(out);
      } finally {
        out.close();
      }
      commitFile(temp, target);
    } catch (err) {
      discard(temp);
      throw err;
    }
    return { fileName: path.basename(target), path: target, bytes: statSync(target).size, embeddedImages: opts.embedImages ? images.length : 0 };
  }

  /**
   * Imports an untrusted case file. A child process (caseFileReader.ts) copies it, checks it is exactly one of the
   * shipped schema versions, checks every row and writes a clean database of the latest schema with the embedded
   * images beside it; it is killed at a deadline. This process never queries the file: it copies the clean case in
   * one transaction, with fresh ids when any id is already here, and moves the images under cases/<case id>.
   */
  async import(file: string): Promise<ImportResult> {
    const label = path.basename(file);
    const st = await stat(file).catch(() => null);
    if (!st || !st.isFile()) throw new VantageError('NOT_FOUND', `case file not found: ${file}`);
    if (st.size === 0) throw new VantageError('BAD_INPUT', `${label} is not a Vantage case file this version can read: it is empty (0 bytes); nothing was imported`);
    const workDir = await mkdtemp(path.join(this.dataDir, `${WORK_PREFIX}${process.pid}-`));
    try {
      const read = await runCaseReader(this.reader.script, { file, workDir, label }, readDeadlineMs(st.size, this.reader.deadlineMs));
      return this.importClean(read, workDir, label);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** Copies the reader's clean case (a database this process wrote through the reader, of its own schema) in. */
  private importClean(read: ReadResult, workDir: string, label: string): ImportResult {
    if (!UUID.test(read.sessionId)) throw new VantageError('INTERNAL', `${label}: the case reader returned a malformed case id`);
    const clean = openDatabase(path.join(workDir, CLEAN_DB));
    const placed: { file: string; sha256: string }[] = [];
    try {
      const ids = allRowIds(clean);
      const alreadyHere = idsTaken(this.db, ids);
      const malformed = Object.keys(read.replacedIds).length;
      const replaced = alreadyHere > 0 ? ids.length : malformed;
      const images = new CaseRepository(clean).listImages(read.sessionId).filter((i) => read.assets.includes(i.sha256));
      const t = new Date().toISOString();
      const sessionId = this.repo.inTransaction(() => {
        const copy = copyCase(clean, this.db, read.sessionId, { newIds: alreadyHere > 0, session: { updated_at: t, deleted_at: null } });
        const originalIds: Record<string, string> = {};
        for (const [cleanId, id] of copy.ids) {
          const original = read.replacedIds[cleanId] ?? (cleanId !== id ? cleanId : undefined);
          if (original !== undefined) originalIds[id] = original;
        }
        this.life.recordImport(copy.sessionId, { file: label, importedAt: t, schemaVersion: read.schemaVersion, originalSessionId: read.originalSessionId, originalIds });
        // embedded images go to a folder of their own in the data folder, then the case points at them
        if (images.length) {
          const folder = joinUnder(this.dataDir, ['cases', copy.sessionId], 'case id');
          mkdirSync(folder, { recursive: true });
          for (const img of images) {
            const name = path.parse(safeFileName(img.path, 'image'));
            const target = joinUnder(folder, path.basename(uniquePath(folder, name.name, name.ext)), 'image file name');
            const earlier = placed.find((p) => p.sha256 === img.sha256);
            if (earlier) copyFileSync(earlier.file, target);
            else renameSync(joinUnder(workDir, [ASSETS_DIR, img.sha256], 'embedded image'), target);
            placed.push({ file: target, sha256: img.sha256 });
            this.life.relinkImage(copy.ids.get(img.id)!, target);
          }
        }
        // outlines in a file are never trusted: every mask is measured again from its raster (masks/measure.ts)
        this.remeasure(this.repo, copy.sessionId);
        return copy.sessionId;
      });
      return {
        session: this.life.live(sessionId),
        keptIds: replaced === 0,
        ids: { kept: ids.length - replaced, replaced, malformed, alreadyHere },
        extractedImages: placed.length,
        warnings: read.warnings,
      };
    } catch (err) {
      for (const p of placed) rmSync(p.file, { force: true });
      throw err;
    } finally {
      clean.close();
    }
  }

  /** Work folders of imports whose process is gone (killed mid-import) are removed at start-up. */
  private removeStaleWork(): void {
    let names: string[];
    try {
      names = readdirSync(this.dataDir);
    } catch {
      return;
    }
    for (const n of names) {
      const pid = Number(/^\.import-(\d+)-/.exec(n)?.[1]);
      if (pid && pid !== process.pid && !processAlive(pid)) rmSync(path.join(this.dataDir, n), { recursive: true, force: true });
    }
  }
}

/** Copies a file into case_assets chunk by chunk, checking it is still the content the case recorded. */
function embed(out: Db, file: string, sha256: string): void {
  const h = createHash('sha256');
  const insert = assetChunkWriter(out);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let i = 0; ; i++) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      const part = buf.subarray(0, n);
      h.update(part);
      insert(sha256, i, part);
    }
  } finally {
    closeSync(fd);
  }
  const got = h.digest('hex');
  if (got !== sha256) {
    throw new VantageError('CONFLICT', `${path.basename(file)} changed since it was opened in this case (sha256 ${got.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…); it was not embedded`);
  }
}
