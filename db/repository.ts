import { randomUUID } from 'node:crypto';
import type { Mask, MapView, Region, RegionGeometry, SessionSummary, Turn } from '../main/contract/index.js';
import { VantageError } from '../main/contract/errors.js';
import { OBJECT_COLOURS, nextObjectColour } from '../main/contract/objectStyle.js';
import type { Db } from './database.js';

export interface ImageRow {
  id: string;
  sessionId: string;
  path: string;
  sha256: string;
  sizeBytes: number;
  facts: unknown;
  display: unknown;
  position: number;
}

export interface MaskRle {
  width: number;
  height: number;
  /** top-left image pixel of the raster */
  origin: [number, number];
  /** alternating run lengths, row-major, starting with a run of 0s (possibly of length 0) */
  runs: number[];
}

export interface NewMask {
  turnId: string;
  imageId: string;
  regionId: string | null;
  phrase: string | null;
  score: number;
  bbox: [number, number, number, number];
  rle: MaskRle;
  polygons: Mask['polygons'];
  areaPx: number;
}

export interface MaskRecord extends Mask {
  turnSeq: number;
  rle: MaskRle;
  createdAt: string;
}

export interface RegionRecord {
  id: string;
  turnId: string;
  turnSeq: number;
  imageId: string;
  kind: RegionGeometry['kind'];
  label: string;
  geometry: RegionGeometry;
  wgs84: unknown;
}

export interface ReportRecord {
  id: string;
  sessionId: string;
  kind: 'geojson' | 'gpkg' | 'pdf';
  fileName: string;
  path: string | null;
  createdAt: string;
  options: Record<string, unknown>;
  sha256: string;
  featureCount: number;
  size: number;
}

const now = () => new Date().toISOString();
export const newId = () => randomUUID();

interface SessionRowRaw { id: string; name: string; created_at: string; updated_at: string; image_count: number; turn_count: number }
interface TurnRowRaw {
  id: string; session_id: string; image_id: string | null; role: 'user' | 'assistant'; text: string; status: Turn['status'];
  created_at: string; duration_ms: number | null; pack_name: string | null; pack_version: string | null; pack_sha256: string | null;
  pack_signature: string | null; provider: string | null;
}

/** a mask's place among its answer's masks, deleted ones counted (Mask.ordinal) */
const ORDINAL = '(SELECT count(*) FROM masks o WHERE o.turn_id = m.turn_id AND o.rowid < m.rowid) AS ordinal';
/** the same for every mask of a case at once */
const ORDINALS = 'row_number() OVER (PARTITION BY m.turn_id ORDER BY m.rowid) - 1 AS ordinal';

/** Typed repository over the case database: every statement prepared once, multi-row writes in transactions. */
/** A masks row as the contract's Mask. */
function maskFromRow(r: Record<string, unknown>): Mask {
  return {
    id: r.id as string,
    turnId: r.turn_id as string,
    imageId: r.image_id as string,
    regionId: (r.region_id as string | null) ?? null,
    phrase: (r.phrase as string | null) ?? null,
    score: r.score as number,
    bbox: JSON.parse(r.bbox_json as string) as Mask['bbox'],
    polygons: JSON.parse(r.polygons_json as string) as Mask['polygons'],
    areaPx: r.area_px as number,
    label: (r.label as string | null) ?? null,
    ...(typeof r.colour === 'string' ? { colour: r.colour } : {}),
    ...(typeof r.ordinal === 'number' ? { ordinal: r.ordinal } : {}),
  };
}

/**
 * Gives every mask without a colour (rows of a case file written before colours were kept) the colour it was drawn
 * in then: the palette by its place in its case (turn, then mask), as migration 005 does for this database.
 */
export function fillMissingColours(db: Db): number {
  return db
    .prepare(
      `UPDATE masks SET colour = '#' || substr(?, 1 + 6 * (o.n % ${OBJECT_COLOURS.length}), 6)
      FROM (SELECT m.id, row_number() OVER (PARTITION BY t.session_id ORDER BY t.seq, m.rowid) - 1 AS n
            FROM masks m JOIN turns t ON t.id = m.turn_id) AS o
      WHERE o.id = masks.id AND masks.colour IS NULL`,
    )
    .run(OBJECT_COLOURS.map((c) => c.slice(1)).join('')).changes;
}

export class CaseRepository {
  private readonly s;
  /** answer turn → the ordinal its next mask gets (Mask.ordinal), for the few turns written last */
  private readonly nextOrdinal = new Map<string, number>();

  /** public so services can build the other repositories (case lifecycle) over the same connection */
  constructor(readonly db: Db) {
    this.s = {
      insertSession: db.prepare('INSERT INTO sessions (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      listSessions: db.prepare(`
        SELECT s.id, s.name, s.created_at, s.updated_at,
          (SELECT count(*) FROM images i WHERE i.session_id = s.id) AS image_count,
          (SELECT count(*) FROM turns t WHERE t.session_id = s.id) AS turn_count
        FROM sessions s WHERE s.deleted_at IS NULL ORDER BY s.updated_at DESC`),
      getSession: db.prepare(`
        SELECT s.id, s.name, s.created_at, s.updated_at,
          (SELECT count(*) FROM images i WHERE i.session_id = s.id) AS image_count,
          (SELECT count(*) FROM turns t WHERE t.session_id = s.id) AS turn_count
        FROM sessions s WHERE s.id = ?`),
      getView: db.prepare('SELECT view_json FROM sessions WHERE id = ?'),
      saveView: db.prepare('UPDATE sessions SET view_json = ? WHERE id = ?'),
      touchSession: db.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?'),
      insertImage: db.prepare(`INSERT INTO images (id, session_id, path, sha256, size_bytes, facts_json, position, created_at)
        VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(position), -1) + 1 FROM images WHERE session_id = ?), ?)`),
      imageBySha: db.prepare('SELECT id FROM images WHERE session_id = ? AND sha256 = ?'),
      getImage: db.prepare('SELECT * FROM images WHERE id = ?'),
      setImageDisplay: db.prepare('UPDATE images SET display_json = ? WHERE id = ?'),
      setImagePosition: db.prepare('UPDATE images SET position = ? WHERE id = ? AND session_id = ?'),
      listImages: db.prepare('SELECT * FROM images WHERE session_id = ? ORDER BY position'),
      nextSeq: db.prepare('SELECT coalesce(max(seq), 0) + 1 AS seq FROM turns WHERE session_id = ?'),
      insertTurn: db.prepare(`INSERT INTO turns (id, session_id, image_id, seq, role, text, status, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      finishTurn: db.prepare(`UPDATE turns SET text = ?, status = ?, duration_ms = ?, pack_name = ?, pack_version = ?,
        pack_sha256 = ?, pack_signature = ?, provider = ? WHERE id = ?`),
      getTurn: db.prepare('SELECT * FROM turns WHERE id = ?'),
      listTurns: db.prepare('SELECT * FROM turns WHERE session_id = ? ORDER BY seq'),
      failStreaming: db.prepare("UPDATE turns SET status = 'failed' WHERE status = 'streaming'"),
      insertRegion: db.prepare(`INSERT INTO regions (id, turn_id, image_id, kind, label, geometry_json, wgs84_json)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      listRegions: db.prepare(`SELECT r.id, r.image_id, r.label, r.geometry_json, r.turn_id FROM regions r
        JOIN turns t ON t.id = r.turn_id WHERE t.session_id = ? ORDER BY t.seq, r.rowid`),
      regionIdsOfTurn: db.prepare('SELECT id FROM regions WHERE turn_id = ? ORDER BY rowid'),
      insertMask: db.prepare(`INSERT INTO masks (id, turn_id, image_id, region_id, phrase, score, bbox_json, rle_json,
        polygons_json, area_px, created_at, colour) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      // the colours of the case's newest live objects (a deleted one's colour is free again; an undo keeps its own)
      // newest first by rowid, from the case's first mask on: the case being written to holds the newest rows, so a
      // few are read whatever its size, and never the rows of older cases
      recentCaseColours: db.prepare(`WITH c(id) AS (SELECT id FROM turns WHERE session_id = (SELECT session_id FROM turns WHERE id = ?))
        SELECT m.colour FROM masks m NOT INDEXED
        WHERE m.rowid >= coalesce((SELECT min(o.rowid) FROM masks o WHERE o.turn_id IN c), 9e18)
        AND m.turn_id IN c AND m.deleted_at IS NULL ORDER BY m.rowid DESC LIMIT ${OBJECT_COLOURS.length - 1}`),
      getMask: db.prepare(`SELECT m.*, ${ORDINAL} FROM masks m WHERE m.id = ?`),
      sessionOfMask: db.prepare('SELECT t.session_id FROM masks m JOIN turns t ON t.id = m.turn_id WHERE m.id = ?'),
      setMaskLabel: db.prepare('UPDATE masks SET label = ? WHERE id = ?'),
      setMaskColour: db.prepare('UPDATE masks SET colour = ? WHERE id = ?'),
      deleteMask: db.prepare('UPDATE masks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      restoreMask: db.prepare('UPDATE masks SET deleted_at = NULL WHERE id = ?'),
      setMaskPolygons: db.prepare('UPDATE masks SET polygons_json = ? WHERE id = ?'),
      allSessionIds: db.prepare('SELECT id FROM sessions ORDER BY rowid'),
      // the ordinal is numbered before deleted masks are left out (one window pass, not a count per row)
      listMasks: db.prepare(`SELECT * FROM (SELECT m.*, ${ORDINALS}, t.seq AS turn_seq, m.rowid AS r FROM masks m
        JOIN turns t ON t.id = m.turn_id WHERE t.session_id = ?) WHERE deleted_at IS NULL ORDER BY turn_seq, r`),
      ordinalInTurn: db.prepare('SELECT count(*) AS n FROM masks WHERE turn_id = ?'),
      listMaskRecords: db.prepare(`SELECT * FROM (SELECT m.*, ${ORDINALS}, t.seq AS turn_seq, m.rowid AS r FROM masks m
        JOIN turns t ON t.id = m.turn_id WHERE t.session_id = ?) WHERE deleted_at IS NULL OR ? ORDER BY turn_seq, r`),
      listRegionRecords: db.prepare(`SELECT r.*, t.seq AS turn_seq FROM regions r JOIN turns t ON t.id = r.turn_id
        WHERE t.session_id = ? ORDER BY t.seq, r.rowid`),
      insertReport: db.prepare(`INSERT INTO reports (id, session_id, kind, file_name, path, created_at, options_json, bytes,
        sha256, feature_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      listReports: db.prepare(`SELECT id, session_id, kind, file_name, path, created_at, options_json, sha256, feature_count,
        length(bytes) AS size FROM reports WHERE session_id = ? ORDER BY created_at DESC, rowid DESC`),
      getReport: db.prepare('SELECT * FROM reports WHERE id = ?'),
      setReportPath: db.prepare('UPDATE reports SET path = ? WHERE id = ?'),
    } as const;
  }

  /** Turns left 'streaming' by a crash or kill are marked failed at start-up (their text so far is kept). */
  recoverInterrupted(): number {
    return this.s.failStreaming.run().changes;
  }

  createSession(name: string): SessionSummary {
    const id = newId();
    const t = now();
    this.s.insertSession.run(id, name, t, t);
    return this.getSession(id);
  }

  listSessions(): SessionSummary[] {
    return (this.s.listSessions.all() as SessionRowRaw[]).map(toSummary);
  }

  getSession(id: string): SessionSummary {
    const row = this.s.getSession.get(id) as SessionRowRaw | undefined;
    if (!row) throw new VantageError('NOT_FOUND', `no case with id ${id}`);
    return toSummary(row);
  }

  getView(sessionId: string): MapView | null {
    const row = this.s.getView.get(sessionId) as { view_json: string | null } | undefined;
    return row?.view_json ? (JSON.parse(row.view_json) as MapView) : null;
  }

  saveView(sessionId: string, view: MapView): void {
    this.getSession(sessionId);
    this.s.saveView.run(JSON.stringify(view), sessionId);
  }

  /** Adds an image to a case; the same file content opened twice in one case is the same image. */
  addImage(sessionId: string, img: { path: string; sha256: string; sizeBytes: number; facts: unknown }): { id: string; created: boolean } {
    this.getSession(sessionId);
    const existing = this.s.imageBySha.get(sessionId, img.sha256) as { id: string } | undefined;
    if (existing) return { id: existing.id, created: false };
    const id = newId();
    this.db.transaction(() => {
      this.s.insertImage.run(id, sessionId, img.path, img.sha256, img.sizeBytes, JSON.stringify(img.facts), sessionId, now());
      this.s.touchSession.run(now(), sessionId);
    }).immediate();
    return { id, created: true };
  }

  /** layer order of a case, bottom first: every image of the case exactly once */
  setImageOrder(sessionId: string, imageIds: string[]): void {
    const have = this.listImages(sessionId).map((i) => i.id).sort();
    const want = [...imageIds].sort();
    if (have.length !== want.length || have.some((id, i) => id !== want[i])) {
      throw new VantageError('BAD_INPUT', `the layer order must list each of the case's ${have.length} image(s) exactly once`);
    }
    this.db.transaction(() => imageIds.forEach((id, i) => this.s.setImagePosition.run(i, id, sessionId)))();
  }

  hasImage(id: string): boolean {
    return this.s.getImage.get(id) !== undefined;
  }

  /** per-image display settings (imagery.setDisplay), stored as given */
  setDisplay(id: string, display: unknown): void {
    if (this.s.setImageDisplay.run(JSON.stringify(display), id).changes === 0) throw new VantageError('NOT_FOUND', `no image with id ${id}`);
  }

  getImage(id: string): ImageRow {
    const row = this.s.getImage.get(id) as Record<string, unknown> | undefined;
    if (!row) throw new VantageError('NOT_FOUND', `no image with id ${id}`);
    return toImage(row);
  }

  listImages(sessionId: string): ImageRow[] {
    return (this.s.listImages.all(sessionId) as Record<string, unknown>[]).map(toImage);
  }

  /**
   * Stores the user's question with its regions and opens the assistant turn as 'streaming', in one transaction:
   * once this returns, the question is durable.
   */
  addQuestion(q: {
    sessionId: string;
    imageId: string;
    text: string;
    regions: { geometry: RegionGeometry; wgs84: unknown }[];
  }): { userTurn: Turn; regions: Region[]; assistantTurnId: string } {
    const userTurnId = newId();
    const assistantTurnId = newId();
    const regionIds: string[] = [];
    this.db.transaction(() => {
      const seq = (this.s.nextSeq.get(q.sessionId) as { seq: number }).seq;
      const t = now();
      this.s.insertTurn.run(userTurnId, q.sessionId, q.imageId, seq, 'user', q.text, 'complete', t);
      q.regions.forEach((r, i) => {
        const id = newId();
        regionIds.push(id);
        this.s.insertRegion.run(id, userTurnId, q.imageId, r.geometry.kind, `region${i + 1}`, JSON.stringify(r.geometry),
          r.wgs84 == null ? null : JSON.stringify(r.wgs84));
      });
      this.s.insertTurn.run(assistantTurnId, q.sessionId, q.imageId, seq + 1, 'assistant', '', 'streaming', t);
      this.s.touchSession.run(t, q.sessionId);
      // IMMEDIATE: this transaction reads (next seq) before it writes; a deferred one fails with SQLITE_BUSY instead of
      // waiting when another process (second window, CLI) commits in between (db/durability.int.test.ts).
    }).immediate();
    const regions: Region[] = q.regions.map((r, i) => ({
      id: regionIds[i]!,
      imageId: q.imageId,
      geometry: r.geometry,
      label: `region${i + 1}`,
    }));
    return { userTurn: this.getTurn(userTurnId), regions, assistantTurnId };
  }

  finishTurn(id: string, f: { text: string; status: Turn['status']; durationMs: number | null; pack: Turn['pack']; provider: string | null }): Turn {
    this.s.finishTurn.run(f.text, f.status, f.durationMs, f.pack?.name ?? null, f.pack?.version ?? null, f.pack?.sha256 ?? null, f.pack?.signature ?? null, f.provider, id);
    return this.getTurn(id);
  }

  getTurn(id: string): Turn {
    const row = this.s.getTurn.get(id) as TurnRowRaw | undefined;
    if (!row) throw new VantageError('NOT_FOUND', `no turn with id ${id}`);
    return this.toTurn(row);
  }

  listTurns(sessionId: string): Turn[] {
    return (this.s.listTurns.all(sessionId) as TurnRowRaw[]).map((r) => this.toTurn(r));
  }

  listRegions(sessionId: string): Region[] {
    return (this.s.listRegions.all(sessionId) as { id: string; image_id: string; label: string; geometry_json: string }[]).map((r) => ({
      id: r.id,
      imageId: r.image_id,
      label: r.label,
      geometry: JSON.parse(r.geometry_json) as RegionGeometry,
    }));
  }

  /**
   * Stores a mask in a colour none of its case's 7 newest live objects has (objectStyle.ts nextObjectColour), kept
   * from now on: a new mask never repaints an older one.
   */
  addMask(m: NewMask): Mask {
    const id = newId();
    const colour = nextObjectColour((this.s.recentCaseColours.all(m.turnId) as { colour: string | null }[]).map((r) => r.colour));
    // an answer's masks are written by the one process making it: counted once, then carried (batches write thousands)
    const ordinal = this.nextOrdinal.get(m.turnId) ?? (this.s.ordinalInTurn.get(m.turnId) as { n: number }).n;
    this.s.insertMask.run(id, m.turnId, m.imageId, m.regionId, m.phrase, m.score, JSON.stringify(m.bbox), JSON.stringify(m.rle),
      JSON.stringify(m.polygons), m.areaPx, now(), colour);
    this.nextOrdinal.delete(m.turnId);
    this.nextOrdinal.set(m.turnId, ordinal + 1);
    if (this.nextOrdinal.size > 64) this.nextOrdinal.delete(this.nextOrdinal.keys().next().value!);
    return { id, turnId: m.turnId, imageId: m.imageId, regionId: m.regionId, phrase: m.phrase, score: m.score, bbox: m.bbox, polygons: m.polygons, areaPx: m.areaPx, label: null, colour, ordinal };
  }

  /** One mask, deleted or not, with whether it is deleted. */
  getMask(id: string): Mask & { deleted: boolean } {
    const row = this.s.getMask.get(id) as Record<string, unknown> | undefined;
    if (!row) throw new VantageError('NOT_FOUND', `no object with id ${id}`);
    return { ...maskFromRow(row), deleted: row.deleted_at != null };
  }

  /** the case a mask belongs to */
  sessionOfMask(id: string): string {
    const row = this.s.sessionOfMask.get(id) as { session_id: string } | undefined;
    if (!row) throw new VantageError('NOT_FOUND', `no object with id ${id}`);
    return row.session_id;
  }

  /** The analyst's name (null: the derived one) and/or colour of an object; the case counts as changed. */
  updateMask(id: string, change: { label?: string | null; colour?: string }): Mask {
    const sessionId = this.sessionOfMask(id);
    this.db.transaction(() => {
      if (change.label !== undefined) this.s.setMaskLabel.run(change.label, id);
      if (change.colour !== undefined) this.s.setMaskColour.run(change.colour, id);
      this.s.touchSession.run(now(), sessionId);
    }).immediate();
    return this.getMask(id);
  }

  /** Soft delete: the object leaves every list and export; restoreMask brings it back unchanged. */
  deleteMask(id: string): Mask {
    const sessionId = this.sessionOfMask(id);
    this.db.transaction(() => {
      this.s.deleteMask.run(now(), id);
      this.s.touchSession.run(now(), sessionId);
    }).immediate();
    return this.getMask(id);
  }

  restoreMask(id: string): Mask {
    const sessionId = this.sessionOfMask(id);
    this.db.transaction(() => {
      this.s.restoreMask.run(id);
      this.s.touchSession.run(now(), sessionId);
    }).immediate();
    return this.getMask(id);
  }

  /** a mask's outline, measured again from its raster (main/masks remeasureCase) */
  setMaskPolygons(id: string, polygons: Mask['polygons']): void {
    this.s.setMaskPolygons.run(JSON.stringify(polygons), id);
  }

  /** every case in the database, deleted ones included */
  allSessionIds(): string[] {
    return (this.s.allSessionIds.all() as { id: string }[]).map((r) => r.id);
  }

  /** runs `fn` in one IMMEDIATE transaction: all of its writes or none */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  listMasks(sessionId: string): Mask[] {
    return (this.s.listMasks.all(sessionId) as Record<string, unknown>[]).map(maskFromRow);
  }

  /**
   * Masks with what exports need beyond the contract's Mask: the raster, its timestamp and the turn's order.
   * Deleted masks only with `withDeleted` (measuring an imported case's rasters again).
   */
  listMaskRecords(sessionId: string, opts: { withDeleted?: boolean } = {}): MaskRecord[] {
    return (this.s.listMaskRecords.all(sessionId, opts.withDeleted ? 1 : 0) as Record<string, unknown>[]).map((r) => ({
      ...maskFromRow(r),
      turnSeq: r.turn_seq as number,
      rle: JSON.parse(r.rle_json as string) as MaskRle,
      createdAt: r.created_at as string,
    }));
  }

  /** Regions with their prompt kind, turn and lon/lat copy, for provenance. */
  listRegionRecords(sessionId: string): RegionRecord[] {
    return (this.s.listRegionRecords.all(sessionId) as Record<string, unknown>[]).map((r) => ({
      id: r.id as string,
      turnId: r.turn_id as string,
      turnSeq: r.turn_seq as number,
      imageId: r.image_id as string,
      kind: r.kind as RegionGeometry['kind'],
      label: r.label as string,
      geometry: JSON.parse(r.geometry_json as string) as RegionGeometry,
      wgs84: r.wgs84_json ? (JSON.parse(r.wgs84_json as string) as unknown) : null,
    }));
  }

  addReport(r: Omit<ReportRecord, 'id' | 'createdAt' | 'size'> & { bytes: Uint8Array; createdAt?: string }): ReportRecord {
    const id = newId();
    const createdAt = r.createdAt ?? now();
    this.s.insertReport.run(id, r.sessionId, r.kind, r.fileName, r.path, createdAt, JSON.stringify(r.options), Buffer.from(r.bytes), r.sha256, r.featureCount);
    return { id, sessionId: r.sessionId, kind: r.kind, fileName: r.fileName, path: r.path, createdAt, options: r.options, sha256: r.sha256, featureCount: r.featureCount, size: r.bytes.byteLength };
  }

  listReports(sessionId: string): ReportRecord[] {
    return (this.s.listReports.all(sessionId) as Record<string, unknown>[]).map(toReport);
  }

  getReport(id: string): ReportRecord & { bytes: Uint8Array } {
    const row = this.s.getReport.get(id) as Record<string, unknown> | undefined;
    if (!row) throw new VantageError('NOT_FOUND', `no report with id ${id}`);
    const bytes = row.bytes as Buffer;
    return { ...toReport({ ...row, size: bytes.byteLength }), bytes: new Uint8Array(bytes) };
  }

  setReportPath(id: string, p: string): void {
    this.s.setReportPath.run(p, id);
  }

  private toTurn(r: TurnRowRaw): Turn {
    return {
      id: r.id,
      sessionId: r.session_id,
      imageId: r.image_id,
      role: r.role,
      text: r.text,
      regionIds: (this.s.regionIdsOfTurn.all(r.id) as { id: string }[]).map((x) => x.id),
      createdAt: r.created_at,
      durationMs: r.duration_ms,
      pack: r.pack_name ? { name: r.pack_name, version: r.pack_version ?? '', sha256: r.pack_sha256 ?? '', signature: r.pack_signature } : null,
      provider: r.provider,
      status: r.status,
    };
  }
}

function toReport(r: Record<string, unknown>): ReportRecord {
  return {
    id: r.id as string,
    sessionId: r.session_id as string,
    kind: r.kind as ReportRecord['kind'],
    fileName: r.file_name as string,
    path: (r.path as string | null) ?? null,
    createdAt: r.created_at as string,
    options: JSON.parse(r.options_json as string) as Record<string, unknown>,
    sha256: r.sha256 as string,
    featureCount: r.feature_count as number,
    size: r.size as number,
  };
}

function toSummary(r: SessionRowRaw): SessionSummary {
  return { id: r.id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at, imageCount: r.image_count, turnCount: r.turn_count };
}

function toImage(r: Record<string, unknown>): ImageRow {
  return {
    id: r.id as string,
    sessionId: r.session_id as string,
    path: r.path as string,
    sha256: r.sha256 as string,
    sizeBytes: r.size_bytes as number,
    facts: JSON.parse(r.facts_json as string),
    display: r.display_json ? JSON.parse(r.display_json as string) : null,
    position: r.position as number,
  };
}
