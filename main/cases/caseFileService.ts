import { copyFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { copyCase } from '../../db/caseCopy.js';
import { CaseLifecycleRepository } from '../../db/caseLifecycle.js';
import { openDatabase, type Db } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import { workerPath } from '../appPaths.js';
import type { SessionSummary } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import { processAlive } from '../util/processAlive.js';
import { joinUnder } from '../util/safePath.js';
import { commitFile, discard, tempBeside } from './atomicFile.js';
import { CASE_EXT, CHUNK, META, UUID, safeFileName } from './caseFormat.js';
import { READ_DEADLINE_MS, readDeadlineMs, runCaseReader } from './caseReaderProcess.js';
import { ASSETS_DIR, CLEAN_DB, type ReadResult } from './readCaseFile.js';

/** Work folders of imports in progress: `<data dir>/.import-<pid>-<random>`. */
const WORK_PREFIX = '.import-';

export interface ExportResult {
  fileName: string;
  path: string;
  bytes: number;
  embeddedImages: number;
}

export interface ImportResult {
  session: SessionSummary;
  /** every id in the file was kept (none malformed, none already in this database); see `ids` for which were not */
  keptIds: boolean;
  /**
   * ids of the case's rows: kept, or replaced by fresh ones — the malformed ones (not UUIDs), or all of them when
   * any is already in this database. The originals are kept as the case's import provenance.
   */
  ids: { kept: number; replaced: number; malformed: number; alreadyHere: number };
  extractedImages: number;
  /** what the file held that was not imported (an embedded image whose copy is damaged) */
  warnings: string[];
}

export interface CaseReaderOptions {
  /** the bundled case reader (dist/main/caseReader.mjs; tests bundle main/cases/caseFileReader.ts) */
  script: string;
  /** how long a reader may take before it is killed, plus an allowance per byte of the file */
  deadlineMs: number;
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
  private readonly reader: CaseReaderOptions;
  private readonly idTakenStmt;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly appVersion: string,
    reader: Partial<CaseReaderOptions> = {},
  ) {
    this.repo = new CaseRepository(db);
    this.life = new CaseLifecycleRepository(db);
    this.reader = { script: reader.script ?? workerPath('caseReader'), deadlineMs: reader.deadlineMs ?? READ_DEADLINE_MS };
    this.idTakenStmt = db.prepare(`SELECT 1 FROM sessions WHERE id = @id UNION ALL SELECT 1 FROM images WHERE id = @id
      UNION ALL SELECT 1 FROM turns WHERE id = @id UNION ALL SELECT 1 FROM regions WHERE id = @id
      UNION ALL SELECT 1 FROM masks WHERE id = @id UNION ALL SELECT 1 FROM reports WHERE id = @id`);
    this.removeStaleWork();
  }

  async export(opts: { sessionId: string; folder: string; embedImages: boolean }): Promise<ExportResult> {
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
        out.transaction(() => {
          copyCase(this.db, out, session.id, { newIds: false });
          const meta = out.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)');
          meta.run(META.sessionId, session.id);
          meta.run(META.exportedAt, new Date().toISOString());
          meta.run(META.appVersion, this.appVersion);
          meta.run(META.embedded, String(opts.embedImages));
        })();
        if (opts.embedImages) for (const img of images) embed(out, img.path, img.sha256);
        // a single self-contained file: no -wal/-shm sidecars, readable from a read-only USB stick
        out.pragma('journal_mode = DELETE');
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
      const ids = clean
        .prepare(`SELECT id FROM sessions UNION ALL SELECT id FROM images UNION ALL SELECT id FROM turns
          UNION ALL SELECT id FROM regions UNION ALL SELECT id FROM masks UNION ALL SELECT id FROM reports`)
        .pluck()
        .all() as string[];
      const alreadyHere = ids.filter((id) => this.idTakenStmt.get({ id }) !== undefined).length;
      const malformed = Object.keys(read.replacedIds).length;
      const replaced = alreadyHere > 0 ? ids.length : malformed;
      const images = new CaseRepository(clean).listImages(read.sessionId).filter((i) => read.assets.includes(i.sha256));
      const t = new Date().toISOString();
      const sessionId = this.db
        .transaction(() => {
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
          return copy.sessionId;
        })
        .immediate();
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
  const insert = out.prepare('INSERT OR IGNORE INTO case_assets (sha256, chunk, bytes) VALUES (?, ?, ?)');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let i = 0; ; i++) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      const part = buf.subarray(0, n);
      h.update(part);
      insert.run(sha256, i, part);
    }
  } finally {
    closeSync(fd);
  }
  const got = h.digest('hex');
  if (got !== sha256) {
    throw new VantageError('CONFLICT', `${path.basename(file)} changed since it was opened in this case (sha256 ${got.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…); it was not embedded`);
  }
}
