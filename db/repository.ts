import { randomUUID } from 'node:crypto';
import type { Mask, MapView, Region, RegionGeometry, SessionSummary, Turn } from '../main/contract/index.js';
import { VantageError } from '../main/contract/errors.js';
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
  };
}

export class CaseRepository {
  private readonly s;

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
        polygons_json, area_px, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      setMaskPolygons: db.prepare('UPDATE masks SET polygons_json = ? WHERE id = ?'),
      allSessionIds: db.prepare('SELECT id FROM sessions ORDER BY rowid'),
      listMasks: db.prepare(`SELECT m.* FROM masks m JOIN turns t ON t.id = m.turn_id WHERE t.session_id = ?
        ORDER BY t.seq, m.rowid`),
      listMaskRecords: db.prepare(`SELECT m.*, t.seq AS turn_seq FROM masks m JOIN turns t ON t.id = m.turn_id
        WHERE t.session_id = ? ORDER BY t.seq, m.rowid`),
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

  addMask(m: NewMask): Mask {
    const id = newId();
    this.s.insertMask.run(id, m.turnId, m.imageId, m.regionId, m.phrase, m.score, JSON.stringify(m.bbox), JSON.stringify(m.rle),
      JSON.stringify(m.polygons), m.areaPx, now());
    return { id, turnId: m.turnId, imageId: m.imageId, regionId: m.regionId, phrase: m.phrase, score: m.score, bbox: m.bbox, polygons: m.polygons, areaPx: m.areaPx };
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

  /** Masks with what exports need beyond the contract's Mask: the raster, its timestamp and the turn's order. */
  listMaskRecords(sessionId: string): MaskRecord[] {
    return (this.s.listMaskRecords.all(sessionId) as Record<string, unknown>[]).map((r) => ({
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
