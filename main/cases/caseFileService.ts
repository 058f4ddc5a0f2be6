import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { copyCase } from '../../db/caseCopy.js';
import { CaseLifecycleRepository } from '../../db/caseLifecycle.js';
import { openDatabase, type Db } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import type { SessionSummary } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import { commitFile, discard, tempBeside } from './atomicFile.js';

export const CASE_EXT = '.vantage';
const CHUNK = 8 * 1024 * 1024;

/** Keys in the case file's `settings` table saying what it holds. */
const META = { sessionId: 'case.sessionId', exportedAt: 'case.exportedAt', appVersion: 'case.appVersion', embedded: 'case.embeddedImages' } as const;

export interface ExportResult {
  fileName: string;
  path: string;
  bytes: number;
  embeddedImages: number;
}

export interface ImportResult {
  session: SessionSummary;
  /** ids were kept unless the case was already in this database */
  keptIds: boolean;
  extractedImages: number;
}

/** File-system-safe name from a case name. */
function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what file names must not contain
  const s = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').replace(/^\.+/, '').trim().slice(0, 120);
  return s || 'case';
}

function uniquePath(folder: string, base: string, ext: string): string {
  for (let i = 1; ; i++) {
    const p = path.join(folder, i === 1 ? `${base}${ext}` : `${base} (${i})${ext}`);
    if (!existsSync(p)) return p;
  }
}

/**
 * A case as one portable `.vantage` file: a SQLite database with the app's own schema (so the same migrations,
 * integrity, foreign-database and newer-version checks apply, and any SQLite tool can read it), holding the case's
 * rows, images by reference (path + sha256) and, on request, the image bytes themselves.
 */
export class CaseFileService {
  private readonly repo: CaseRepository;
  private readonly life: CaseLifecycleRepository;

  constructor(private readonly db: Db, private readonly dataDir: string, private readonly appVersion: string) {
    this.repo = new CaseRepository(db);
    this.life = new CaseLifecycleRepository(db);
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

  async import(file: string): Promise<ImportResult> {
    if (!existsSync(file) || !statSync(file).isFile()) throw new VantageError('NOT_FOUND', `case file not found: ${file}`);
    // Read from a private copy: even a read-only SQLite open may create -wal/-shm files beside a WAL-mode file, and
    // the user's file must never be touched. A foreign, corrupt or newer file is then refused by openDatabase.
    const copy = path.join(this.dataDir, `.import-${process.pid}-${Date.now()}${CASE_EXT}`);
    copyFileSync(file, copy);
    try {
      return await this.importCopy(copy, file);
    } finally {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(copy + suffix, { force: true });
    }
  }

  private async importCopy(copyPath: string, file: string): Promise<ImportResult> {
    let src: Db;
    try {
      src = openDatabase(copyPath, { readonly: true });
    } catch (err) {
      if (err instanceof VantageError) throw new VantageError(err.code, err.message.split(copyPath).join(path.basename(file)));
      throw err;
    }
    let result: { sessionId: string; keptIds: boolean };
    let assets: { imageId: string; name: string; sha256: string }[];
    try {
      const sessionId = readMeta(src, file);
      const keptIds = !this.exists(sessionId);
      const t = new Date().toISOString();
      const copy = this.db.transaction(() => copyCase(src, this.db, sessionId, { newIds: !keptIds, session: { updated_at: t, deleted_at: null } })).immediate();
      result = { sessionId: copy.sessionId, keptIds };
      // case files written before schema 002 have no case_assets table (and so no embedded images)
      const hasAssets = src.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'case_assets'").get() !== undefined;
      const embedded = new Set(
        hasAssets ? (src.prepare('SELECT DISTINCT sha256 FROM case_assets').all() as { sha256: string }[]).map((r) => r.sha256) : [],
      );
      assets = this.repo
        .listImages(copy.sessionId)
        .filter((i) => embedded.has(i.sha256))
        .map((i) => ({ imageId: i.id, name: path.basename(i.path), sha256: i.sha256 }));
      // embedded images go to a folder of their own in the data folder, then the case points at them
      if (assets.length) {
        const folder = path.join(this.dataDir, 'cases', copy.sessionId);
        mkdirSync(folder, { recursive: true });
        for (const a of assets) {
          const target = uniquePath(folder, path.parse(a.name).name, path.parse(a.name).ext);
          extract(src, a.sha256, target);
          this.life.relinkImage(a.imageId, target);
        }
      }
    } finally {
      src.close();
    }
    return { session: this.life.live(result.sessionId), keptIds: result.keptIds, extractedImages: assets.length };
  }

  private exists(sessionId: string): boolean {
    return this.db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(sessionId) !== undefined;
  }
}

function readMeta(src: Db, file: string): string {
  let sessionId: string | undefined;
  try {
    sessionId = (src.prepare('SELECT value FROM settings WHERE key = ?').get(META.sessionId) as { value: string } | undefined)?.value;
  } catch {
    sessionId = undefined;
  }
  if (!sessionId) {
    throw new VantageError('BAD_INPUT', `${path.basename(file)} is not an exported Vantage case (no case in it); choose a ${CASE_EXT} file made by "Export case"`);
  }
  if (!src.prepare('SELECT 1 FROM sessions WHERE id = ?').get(sessionId)) {
    throw new VantageError('BAD_INPUT', `${path.basename(file)} is damaged: the case it names is not in it`);
  }
  return sessionId;
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

/** Writes an embedded image out (temp + rename), verifying its hash. */
function extract(src: Db, sha256: string, target: string): void {
  const temp = tempBeside(target);
  const h = createHash('sha256');
  const fd = openSync(temp, 'w');
  try {
    for (const row of src.prepare('SELECT bytes FROM case_assets WHERE sha256 = ? ORDER BY chunk').iterate(sha256) as IterableIterator<{ bytes: Buffer }>) {
      h.update(row.bytes);
      writeSync(fd, row.bytes);
    }
  } finally {
    closeSync(fd);
  }
  if (h.digest('hex') !== sha256) {
    discard(temp);
    throw new VantageError('BAD_INPUT', `the embedded copy of ${path.basename(target)} is damaged (its sha256 does not match); the case was imported without it`);
  }
  commitFile(temp, target);
}

