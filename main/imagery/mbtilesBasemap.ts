import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import type { BasemapInfo } from '../contract/calls/imagery.js';
import { VantageError } from '../contract/errors.js';

/**
 * An offline basemap from a user-supplied MBTiles file (SQLite: `metadata` name/value pairs, `tiles` rows in TMS
 * order, i.e. tile_row counted from the south). Opened read-only: the user's file is never changed.
 */
export class MbtilesBasemap {
  private constructor(
    private readonly db: Database.Database,
    private readonly get: Database.Statement<[number, number, number], { tile_data: Buffer }>,
    readonly info: BasemapInfo,
  ) {}

  static open(file: string): MbtilesBasemap {
    const name = path.basename(file);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw new VantageError('NOT_FOUND', `cannot open the basemap ${name}: ${(e as Error).message}`);
    }
    try {
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','view')").all() as { name: string }[]).map((r) => r.name));
      if (!tables.has('tiles')) throw new VantageError('BAD_INPUT', `${name} is not an MBTiles file: it has no "tiles" table`);
      const meta = new Map<string, string>();
      if (tables.has('metadata')) {
        for (const r of db.prepare('SELECT name, value FROM metadata').all() as { name: string; value: string }[]) meta.set(r.name, String(r.value));
      }
      const format = (meta.get('format') ?? 'png').toLowerCase();
      if (format === 'pbf') throw new VantageError('UNSUPPORTED', `${name} holds vector tiles (pbf): only raster MBTiles (png, jpg, webp) can be a basemap`);
      const zooms = db.prepare('SELECT MIN(zoom_level) AS lo, MAX(zoom_level) AS hi FROM tiles').get() as { lo: number | null; hi: number | null };
      if (zooms.lo === null || zooms.hi === null) throw new VantageError('BAD_INPUT', `${name} holds no tiles`);
      const b = (meta.get('bounds') ?? '').split(',').map(Number);
      const info: BasemapInfo = {
        name: meta.get('name') ?? name,
        format,
        minZoom: Number(meta.get('minzoom') ?? zooms.lo),
        maxZoom: Number(meta.get('maxzoom') ?? zooms.hi),
        bounds: b.length === 4 && b.every(Number.isFinite) ? (b as [number, number, number, number]) : null,
        attribution: meta.get('attribution') ?? null,
      };
      const get = db.prepare<[number, number, number], { tile_data: Buffer }>(
        'SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?',
      );
      return new MbtilesBasemap(db, get, info);
    } catch (e) {
      db.close();
      if (e instanceof VantageError) throw e;
      throw new VantageError('BAD_INPUT', `${name} is not a readable MBTiles file (${(e as Error).message})`);
    }
  }

  /** The XYZ tile as PNG (other formats re-encoded: the resource is image/png); null where the file has none. */
  async tile(z: number, x: number, y: number): Promise<Uint8Array | null> {
    const row = this.get.get(z, x, 2 ** z - 1 - y); // XYZ counts rows from the north, TMS from the south
    if (!row) return null;
    return this.info.format === 'png' ? new Uint8Array(row.tile_data) : new Uint8Array(await sharp(row.tile_data).png().toBuffer());
  }

  close(): void {
    this.db.close();
  }
}

let emptyTile: Promise<Uint8Array> | null = null;
/** Fully transparent 256² PNG for tiles the basemap lacks (a 404 would log errors in the page for every one). */
function transparentTile(): Promise<Uint8Array> {
  emptyTile ??= sharp({ create: { width: 256, height: 256, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b));
  return emptyTile;
}

/** Where the chosen basemap's path is kept between runs (the app's `settings` table: db/settings.ts). */
export interface BasemapSettings {
  get(key: string): string | null;
  set(key: string, value: string): void;
  delete(key: string): void;
}

export const BASEMAP_SETTING = 'basemap.path';

/**
 * The one basemap in force for this backend (null: none; the map shows imagery on a plain background). With
 * settings, the choice is remembered and reopened at start-up by restore().
 */
export class BasemapService {
  private current: MbtilesBasemap | null = null;
  /** why the remembered basemap could not be reopened; handed out once (takeNotice) */
  private notice: string | null = null;

  constructor(private readonly settings?: BasemapSettings) {}

  info(): BasemapInfo | null {
    return this.current?.info ?? null;
  }

  /** Opens (checking it first) and puts in force the given MBTiles file, or removes the basemap with null; remembered. */
  set(file: string | null): BasemapInfo | null {
    const next = file === null ? null : MbtilesBasemap.open(file);
    this.current?.close();
    this.current = next;
    this.notice = null;
    if (file === null) this.settings?.delete(BASEMAP_SETTING);
    else this.settings?.set(BASEMAP_SETTING, path.resolve(file));
    return this.info();
  }

  /**
   * Start-up: reopens the basemap chosen in an earlier run. When its file is gone (or no longer a readable MBTiles)
   * the setting is cleared and a notice says so, once; returns that notice (null when all is well or none was set).
   */
  restore(): string | null {
    const file = this.settings?.get(BASEMAP_SETTING);
    if (!file) return null;
    const name = path.basename(file);
    try {
      if (!existsSync(file)) throw new VantageError('NOT_FOUND', 'the file is gone (moved or deleted)');
      this.current?.close();
      this.current = MbtilesBasemap.open(file);
      return null;
    } catch (e) {
      this.settings?.delete(BASEMAP_SETTING);
      this.notice = `The basemap “${name}” chosen earlier could not be reopened: ${(e as Error).message}. Choose it again with “Basemap…”.`;
      return this.notice;
    }
  }

  /** The restore() notice, once: later calls return null. */
  takeNotice(): string | null {
    const n = this.notice;
    this.notice = null;
    return n;
  }

  async tile(z: number, x: number, y: number): Promise<Uint8Array> {
    if (!this.current) throw new VantageError('NOT_FOUND', 'no basemap is set: choose an MBTiles file with “Basemap…”');
    if (y < 0 || y >= 2 ** z || x >= 2 ** z) return transparentTile();
    return (await this.current.tile(z, x, y)) ?? transparentTile();
  }

  /** Closes the file for shutdown; the choice stays remembered. */
  close(): void {
    this.current?.close();
    this.current = null;
  }
}
