import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { copyCase } from './caseCopy.js';
import { APPLICATION_ID, loadMigrations, openDatabase, type Db } from './database.js';
import { VantageError } from '../main/contract/errors.js';
import { CASE_EXT, META, SHA256, UUID, safeFileName, shown } from './caseFormat.js';
import { badRow, oversized } from './caseRows.js';
import { schemaDifference } from './caseSchema.js';
import { fillMissingColours } from './repository.js';

/** What the parent asks of the case reader (one child process per import). */
export interface ReadJob {
  /** the user's case file: read once, never opened by SQLite */
  file: string;
  /** private, empty folder under the data folder for the copy, the clean database and the extracted images */
  workDir: string;
  /** how the file is named in messages */
  label: string;
}

export interface ReadResult {
  /** the case's session id in the clean database (a UUID) */
  sessionId: string;
  /** the session id the file named, shortened for provenance */
  originalSessionId: string;
  schemaVersion: number;
  /** clean-database id → the malformed id it replaced (shortened), for provenance */
  replacedIds: Record<string, string>;
  /** embedded images written to <workDir>/assets/<sha256>, their hash verified */
  assets: string[];
  warnings: string[];
  /** the reader's peak resident memory (KiB) */
  peakRssKb: number;
}

export const CLEAN_DB = 'clean.db';
export const ASSETS_DIR = 'assets';

/** SQLite's own memory in the reader; a hostile file cannot make it allocate more. */
const SQLITE_HEAP_LIMIT = 512 * 1024 * 1024;
/** Longest case name kept (the contract's limit for a name); longer names are cut. */
const MAX_CASE_NAME = 200;

const refuse = (label: string, why: string) => new VantageError('BAD_INPUT', `${label} is not a Vantage case file this version can read: ${why}; nothing was imported`);

/**
 * Reads an untrusted `.vantage` file into a clean database of the app's latest schema — the one thing the main
 * process then imports. Runs in the case reader child process (caseFileReader.ts), which the main process kills
 * at a deadline: nothing here needs to be interruptible. Every refusal is one VantageError line naming the file.
 */
export function readCaseFile(job: ReadJob): ReadResult {
  const copy = privateCopy(job);
  let src: Db | undefined;
  let clean: Db | undefined;
  try {
    try {
      src = new Database(copy, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw refuse(job.label, `SQLite cannot open it (${(err as Error).message})`);
    }
    src.pragma('trusted_schema = OFF');
    src.pragma('cell_size_check = ON');
    src.pragma('mmap_size = 0');
    src.pragma('query_only = ON');
    src.pragma(`hard_heap_limit = ${SQLITE_HEAP_LIMIT}`);

    const migrations = loadMigrations();
    const version = checkIdentity(src, job.label, migrations.at(-1)?.version ?? 0);
    const diff = schemaDifference(src, migrations, version);
    if (diff) throw refuse(job.label, diff);
    const check = src.pragma('quick_check') as { quick_check: string }[];
    if (check.length !== 1 || check[0]?.quick_check !== 'ok') throw refuse(job.label, `it is damaged (SQLite's integrity check: ${shown(check[0]?.quick_check ?? 'no answer')})`);
    const tables = (src.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
    const tooLarge = oversized(src, tables);
    if (tooLarge) throw refuse(job.label, tooLarge);

    const sessionId = caseSessionId(src, job.label);
    clean = openDatabase(path.join(job.workDir, CLEAN_DB));
    const replacedIds: Record<string, string> = {};
    const cleanDb = clean;
    const copied = cleanDb.transaction(() => {
      const c = copyCase(src!, cleanDb, sessionId, { newIds: (id) => !(typeof id === 'string' && UUID.test(id)) });
      for (const [old, id] of c.ids) if (old !== id) replacedIds[id] = shown(old, 80);
      tidy(cleanDb, c.sessionId);
      return c;
    })();
    const bad = badRow(cleanDb);
    if (bad) throw refuse(job.label, bad);
    const { assets, warnings } = extractAssets(src, cleanDb, path.join(job.workDir, ASSETS_DIR), version);
    cleanDb.pragma('journal_mode = DELETE');
    return {
      sessionId: copied.sessionId,
      originalSessionId: shown(sessionId, 80),
      schemaVersion: version,
      replacedIds,
      assets,
      warnings,
      peakRssKb: process.resourceUsage().maxRSS,
    };
  } catch (err) {
    if (err instanceof VantageError) throw err;
    // SQLite refusing a page, a constraint the rows break, a value it cannot hold: the file is damaged
    throw refuse(job.label, `it is damaged (${(err as Error).message.split('\n')[0]})`);
  } finally {
    src?.close();
    clean?.close();
    rmSync(copy, { force: true });
  }
}

/**
 * Copies the file into the private folder (a read-only SQLite open may still create -wal/-shm files beside it, and
 * the user's file must never be touched) and checks its header. A WAL-mode file is switched to a rollback journal
 * in the copy: only the main file travelled, so there is no WAL to read.
 */
function privateCopy(job: ReadJob): string {
  const copy = path.join(job.workDir, `case${CASE_EXT}`);
  copyFileSync(job.file, copy);
  const fd = openSync(copy, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) throw refuse(job.label, 'it is empty (0 bytes)');
    const head = Buffer.alloc(100);
    readSync(fd, head, 0, 100, 0);
    if (size < 512 || head.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') throw refuse(job.label, 'it is not a SQLite database (another kind of file, or damaged)');
    const [write, read] = [head[18], head[19]];
    if (write === 2 && read === 2) writeSync(fd, Buffer.from([1, 1]), 0, 2, 18);
    else if (write !== 1 || read !== 1) throw refuse(job.label, `it uses a SQLite file format this version does not read (${write}/${read})`);
  } finally {
    closeSync(fd);
  }
  return copy;
}

/** The file's schema version, refusing another application's database and a newer Vantage's. */
function checkIdentity(src: Db, label: string, latest: number): number {
  const appId = src.pragma('application_id', { simple: true }) as number;
  const version = src.pragma('user_version', { simple: true }) as number;
  if (appId !== APPLICATION_ID) throw refuse(label, 'it is a SQLite database of another application (Vantage will not modify it)');
  if (version > latest) {
    throw new VantageError('UNSUPPORTED', `${label} was written by a newer Vantage (schema ${version}, this version knows up to ${latest}); open it with that version; nothing was imported`);
  }
  if (version < 1) throw refuse(label, `it has no Vantage schema version (${version})`);
  return version;
}

function caseSessionId(src: Db, label: string): string {
  const row = src.prepare('SELECT value FROM settings WHERE key = ?').get(META.sessionId) as { value: unknown } | undefined;
  if (row === undefined) {
    throw new VantageError('BAD_INPUT', `${label} is not an exported Vantage case (no case in it); choose a ${CASE_EXT} file made by "Export case"`);
  }
  if (typeof row.value !== 'string' || !src.prepare('SELECT 1 FROM sessions WHERE id = ?').get(row.value)) {
    throw new VantageError('BAD_INPUT', `${label} is damaged: the case it names (${shown(row.value)}) is not in it; nothing was imported`);
  }
  return row.value;
}

/** What the app never takes from a file as is: over-long case names, report folders and file names of elsewhere. */
function tidy(clean: Db, sessionId: string): void {
  const { name } = clean.prepare('SELECT name FROM sessions WHERE id = ?').get(sessionId) as { name: unknown };
  if (typeof name === 'string') {
    const cut = [...name.slice(0, MAX_CASE_NAME * 2)].slice(0, MAX_CASE_NAME).join('').trim();
    clean.prepare('UPDATE sessions SET name = ? WHERE id = ?').run(cut || 'Imported case', sessionId);
  }
  // a report's folder is where it was written on the exporting machine; "write again" must ask for one here
  const reports = clean.prepare('SELECT id, file_name FROM reports').all() as { id: string; file_name: unknown }[];
  const fix = clean.prepare('UPDATE reports SET path = NULL, file_name = ? WHERE id = ?');
  for (const r of reports) fix.run(typeof r.file_name === 'string' ? safeFileName(r.file_name, 'report') : r.file_name, r.id);
  // masks of a file written before colours were kept: the colours they were drawn in
  fillMissingColours(clean);
}

/**
 * Writes each embedded image of the case to `dir/<sha256>`, verifying chunk order and content hash. A damaged copy
 * is left out with a warning (the case then refers to the image where it was, like an export without embedding).
 */
function extractAssets(src: Db, clean: Db, dir: string, version: number): { assets: string[]; warnings: string[] } {
  const assets: string[] = [];
  const warnings: string[] = [];
  if (version < 2) return { assets, warnings }; // case_assets arrived with schema 002
  const images = clean.prepare('SELECT path, sha256 FROM images ORDER BY position').all() as { path: string; sha256: string }[];
  const chunks = src.prepare('SELECT chunk, bytes FROM case_assets WHERE sha256 = ? ORDER BY chunk');
  for (const img of images) {
    if (!SHA256.test(img.sha256) || assets.includes(img.sha256)) continue;
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, img.sha256);
    const h = createHash('sha256');
    let expected = 0;
    let ordered = true;
    const fd = openSync(target, 'w');
    try {
      for (const row of chunks.iterate(img.sha256) as IterableIterator<{ chunk: unknown; bytes: unknown }>) {
        if (row.chunk !== expected++ || !Buffer.isBuffer(row.bytes)) {
          ordered = false;
          break;
        }
        h.update(row.bytes);
        writeSync(fd, row.bytes);
      }
    } finally {
      closeSync(fd);
    }
    if (expected === 0) {
      rmSync(target, { force: true }); // not embedded: the case refers to the image by path
    } else if (!ordered || h.digest('hex') !== img.sha256) {
      rmSync(target, { force: true });
      warnings.push(`the embedded copy of ${shown(safeFileName(img.path, 'image'))} is damaged (its sha256 does not match); the case was imported without it`);
    } else {
      assets.push(img.sha256);
    }
  }
  return { assets, warnings };
}
