import { z } from 'zod';
import type { Db } from './database.js';
import { RegionGeometry } from '../main/contract/geometry.js';
import { MapView, Mask } from '../main/contract/schemas.js';
import { CHUNK } from './caseFormat.js';
import { HEX_COLOUR } from '../main/contract/objectStyle.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Largest value accepted in any column not listed in CAPS (ids, names, paths, dates, hashes). */
const DEFAULT_CAP = 64 * KiB;

/**
 * Largest value (bytes, as SQLite stores it) each column may hold in a case file; checked with octet_length before
 * any row is read, so a huge value is refused without ever being loaded.
 */
const CAPS: Record<string, Record<string, number>> = {
  images: { facts_json: 16 * MiB, display_json: 1 * MiB },
  turns: { text: 4 * MiB },
  regions: { geometry_json: 16 * MiB, wgs84_json: 16 * MiB },
  masks: { rle_json: 64 * MiB, polygons_json: 64 * MiB },
  reports: { bytes: 256 * MiB, options_json: 1 * MiB },
  case_assets: { bytes: CHUNK },
};

const mb = (n: number) => (n >= MiB ? `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MB` : `${Math.ceil(n / KiB)} KB`);

/** Why a value in the file is too large to read, or null: one scan per table, no value loaded. */
export function oversized(db: Db, tables: string[]): string | null {
  for (const t of tables) {
    const cols = (db.pragma(`table_info("${t}")`) as { name: string }[]).map((c) => c.name);
    const max = db.prepare(`SELECT ${cols.map((c) => `max(octet_length("${c}")) AS "${c}"`).join(', ')} FROM "${t}"`).get() as Record<string, number | null>;
    for (const c of cols) {
      const cap = CAPS[t]?.[c] ?? DEFAULT_CAP;
      const got = max[c] ?? 0;
      if (got > cap) return `${t}.${c} holds a value of ${mb(got)} (at most ${mb(cap)} is accepted)`;
    }
  }
  return null;
}

type Check = (v: unknown) => string | null;

const text: Check = (v) => (typeof v === 'string' ? null : 'is not text');
const optText: Check = (v) => (v === null ? null : text(v));
const int: Check = (v) => (typeof v === 'number' && Number.isInteger(v) ? null : 'is not a whole number');
const num: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'is not a number');
const optNum: Check = (v) => (v === null ? null : num(v));
const blob: Check = (v) => (Buffer.isBuffer(v) ? null : 'is not bytes');
const nonNegative: Check = (v) => num(v) ?? ((v as number) < 0 ? 'is negative' : null);

function json(schema: z.ZodType, nullable = false): Check {
  return (v) => {
    if (v === null) return nullable ? null : 'is missing';
    if (typeof v !== 'string') return 'is not text';
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return 'is not valid JSON';
    }
    return schema.safeParse(parsed).success ? null : 'does not hold what Vantage stores there';
  };
}

const Rle = z.object({
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  origin: z.tuple([z.number().finite(), z.number().finite()]),
  runs: z.array(z.number().int().nonnegative()),
});
/** facts as the imagery engine recorded them; sessions.open shows them through the contract's ImageInfo */
const Facts = z.object({ name: z.string().optional(), width: z.number().int().positive().optional(), height: z.number().int().positive().optional() }).passthrough();
const AnyObject = z.record(z.string(), z.unknown());

/**
 * What every column of every case table must hold (the latest schema: rows are checked after the copy into a clean
 * database). A column missing here fails the check, so a new migration cannot slip past it unchecked.
 */
export const ROW_CHECKS: Record<string, Record<string, Check>> = {
  sessions: { id: text, name: text, created_at: text, updated_at: text, view_json: json(MapView, true), deleted_at: optText },
  images: {
    id: text,
    session_id: text,
    path: text,
    sha256: text,
    size_bytes: (v) => int(v) ?? nonNegative(v),
    facts_json: json(Facts),
    display_json: json(AnyObject, true),
    position: int,
    created_at: text,
    relinked_from: optText,
  },
  turns: {
    id: text,
    session_id: text,
    image_id: optText,
    seq: int,
    role: text,
    text,
    status: text,
    created_at: text,
    duration_ms: optNum,
    pack_name: optText,
    pack_version: optText,
    pack_sha256: optText,
    provider: optText,
    pack_signature: optText,
  },
  regions: { id: text, turn_id: text, image_id: text, kind: text, label: text, geometry_json: json(RegionGeometry), wgs84_json: json(z.unknown(), true) },
  masks: {
    id: text,
    turn_id: text,
    image_id: text,
    region_id: optText,
    phrase: optText,
    score: num,
    bbox_json: json(Mask.shape.bbox),
    rle_json: json(Rle),
    polygons_json: json(Mask.shape.polygons),
    area_px: nonNegative,
    created_at: text,
    label: optText,
    colour: (v) => (v === null || (typeof v === 'string' && HEX_COLOUR.test(v)) ? null : 'is not a #rrggbb colour'),
    deleted_at: optText,
  },
  reports: {
    id: text,
    session_id: text,
    kind: text,
    file_name: text,
    path: optText,
    created_at: text,
    options_json: json(AnyObject),
    bytes: blob,
    sha256: text,
    feature_count: (v) => int(v) ?? nonNegative(v),
  },
};

/** Why a row of `db`'s case tables does not hold what Vantage stores, or null when all do. */
export function badRow(db: Db): string | null {
  const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('settings', 'case_assets') AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
  for (const t of tables) {
    const checks = ROW_CHECKS[t];
    if (!checks) return `table ${t} has no row checks (a migration added it without updating ROW_CHECKS)`;
    let n = 0;
    for (const row of db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).iterate() as IterableIterator<Record<string, unknown>>) {
      n++;
      for (const [c, v] of Object.entries(row)) {
        const check = checks[c];
        const why = check ? check(v) : 'has no row check';
        if (why) return `${t}.${c} of row ${n} ${why}`;
      }
    }
  }
  return null;
}
