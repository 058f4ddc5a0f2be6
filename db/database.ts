import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VantageError } from '../main/contract/errors.js';

export type Db = Database.Database;

/** 'VANT': marks a SQLite file as a Vantage case database, so a foreign database is never written to. */
export const APPLICATION_ID = 0x56414e54;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

let cachedMigrationsDir: string | null = null;

/**
 * `db/migrations` of the app: found walking up from this module, so the database layer needs nothing from the
 * app's own code; works from sources (db/), bundles (dist/main/) and a packaged app (db/migrations/*.sql shipped).
 */
export function migrationsDir(): string {
  if (cachedMigrationsDir) return cachedMigrationsDir;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    for (const candidate of [path.join(dir, 'migrations'), path.join(dir, 'db', 'migrations')]) {
      if (existsSync(path.join(candidate, '001_init.sql'))) return (cachedMigrationsDir = candidate);
    }
    dir = path.dirname(dir);
  }
  throw new VantageError('INTERNAL', 'the database migrations (db/migrations) were not found beside the app');
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(path.join(dir, f), 'utf8') }));
}

function checkHeader(file: string): void {
  if (!existsSync(file) || statSync(file).size === 0) return;
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    if (header.toString('latin1') !== 'SQLite format 3\u0000') {
      throw new VantageError('BAD_INPUT', `${file} is not a SQLite database (corrupt or another kind of file); it was left untouched`);
    }
  } finally {
    closeSync(fd);
  }
}

export interface OpenOptions {
  readonly?: boolean;
  migrations?: Migration[];
}

/**
 * The one place the database is opened. WAL + synchronous=FULL: an acknowledged commit survives power loss.
 * Foreign or newer databases are refused before anything is written.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  checkHeader(file);
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new VantageError('BAD_INPUT', `cannot open database ${file}: ${(err as Error).message}`);
  }
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const userVersion = db.pragma('user_version', { simple: true }) as number;
    const tableCount = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type='table'").get() as { n: number }).n;
    if (appId !== APPLICATION_ID && !(appId === 0 && tableCount === 0)) {
      throw new VantageError('BAD_INPUT', `${file} is a SQLite database of another application; Vantage will not modify it`);
    }
    if (integrityOk(db) === false) {
      throw new VantageError('BAD_INPUT', `${file} failed SQLite's integrity check; restore it from a backup (it was not modified)`);
    }
    const migrations = opts.migrations ?? loadMigrations();
    const latest = migrations.at(-1)?.version ?? 0;
    if (userVersion > latest) {
      throw new VantageError(
        'UNSUPPORTED',
        `${file} was written by a newer Vantage (schema ${userVersion}, this version knows ${latest}); open it with that version`,
      );
    }
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db, migrations, userVersion);
    } else {
      db.pragma('foreign_keys = ON');
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function integrityOk(db: Db): boolean {
  const rows = db.pragma('quick_check') as { quick_check: string }[];
  return rows.length === 1 && rows[0]?.quick_check === 'ok';
}

function migrate(db: Db, migrations: Migration[], from: number): void {
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
