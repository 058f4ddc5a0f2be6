import { existsSync, statSync } from 'node:fs';
import type { ImageInfo, MapView, SessionDetail, SessionSummary } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import type { OutputOf } from '../contract/procedures.js';
import path, { basename } from 'node:path';
import { caseNameForImage, isDefaultCaseName } from '../contract/caseNames.js';
import { CaseLifecycleRepository, PURGE_AFTER_DAYS } from '../../db/caseLifecycle.js';
import type { CaseRepository, ImageRow } from '../../db/repository.js';
import { sha256OfFile } from '../util/fileHash.js';
import type { ImageFacts, ImageryPort } from '../imagery/imageryPort.js';

/**
 * Cases: create, list/search, open (restoring images, regions, turns, masks and the map view), rename, duplicate,
 * delete with undo, purge, images within a case and relinking a moved image by its content hash.
 */
export class SessionsService {
  private readonly life: CaseLifecycleRepository;
  /** images registered with the imagery engine by id alone (tiles, displays, pixels) */
  private readonly registered = new Set<string>();

  constructor(private readonly repo: CaseRepository, private readonly imagery: ImageryPort, life?: CaseLifecycleRepository) {
    this.life = life ?? new CaseLifecycleRepository(repo.db);
  }

  list(query?: string): SessionSummary[] {
    return query?.trim() ? this.life.search(query) : this.repo.listSessions();
  }

  rename(sessionId: string, name: string): SessionSummary {
    return this.life.rename(sessionId, name.trim());
  }

  duplicate(sessionId: string, name?: string): SessionSummary {
    const original = this.life.live(sessionId);
    return this.life.duplicate(sessionId, name?.trim() || `${original.name} (copy)`);
  }

  /** Soft delete: undone by restore() until the purge date. */
  delete(sessionId: string): Omit<OutputOf<'sessions.delete'>, 'ok'> {
    return this.life.softDelete(sessionId);
  }

  restore(sessionId: string): SessionSummary {
    return this.life.restore(sessionId);
  }

  listDeleted(): OutputOf<'sessions.deleted'> {
    return this.life.listDeleted();
  }

  /** One deleted case now, or (no id) every case deleted more than PURGE_AFTER_DAYS ago. */
  purge(sessionId?: string): number {
    return sessionId
      ? this.life.purge({ sessionId })
      : this.life.purge({ before: new Date(Date.now() - PURGE_AFTER_DAYS * 86_400_000) });
  }

  /**
   * Points a moved or missing image at its new location — only if the file has the very content the case recorded
   * (sha256), so masks and regions stay true to the pixels they were drawn on.
   */
  async relink(imageId: string, file: string): Promise<OutputOf<'imagery.relink'>> {
    const row = this.repo.getImage(imageId);
    this.life.live(row.sessionId);
    const sha = await sha256OfFile(file);
    if (sha !== row.sha256) {
      throw new VantageError(
        'CONFLICT',
        `${path.basename(file)} is not the image this case used (${path.basename(row.path)}): its content differs ` +
          `(sha256 ${sha.slice(0, 12)}…, expected ${row.sha256.slice(0, 12)}…). Choose the original file.`,
      );
    }
    this.life.relinkImage(imageId, file);
    await this.imagery.register(imageId, file);
    return { ...this.infoOf(this.repo.getImage(imageId)), missing: false };
  }

  create(name: string): SessionSummary {
    return this.repo.createSession(name.trim());
  }

  async open(sessionId: string): Promise<SessionDetail> {
    const session = this.life.live(sessionId);
    const images = await Promise.all(
      this.repo.listImages(sessionId).map(async (row) => {
        const missing = !existsSync(row.path);
        if (!missing) await this.imagery.register(row.id, row.path);
        return { ...this.infoOf(row), missing };
      }),
    );
    return {
      session,
      images,
      regions: this.repo.listRegions(sessionId),
      turns: this.repo.listTurns(sessionId),
      masks: this.repo.listMasks(sessionId),
      view: this.repo.getView(sessionId),
    };
  }

  saveView(sessionId: string, view: MapView): OutputOf<'sessions.saveView'> {
    this.repo.saveView(sessionId, view);
    return { ok: true };
  }

  /**
   * Opens an image file into a case; opening the same content again returns the image already there. A case still
   * under the name Vantage gave it is named after its first image ("RGB.byte · 14:02, 6 Dec").
   */
  async openImage(sessionId: string, path: string): Promise<ImageInfo> {
    const session = this.repo.getSession(sessionId);
    const facts = await this.imagery.inspect(path);
    const { id, created } = this.repo.addImage(sessionId, { path, sha256: facts.sha256, sizeBytes: statSync(path).size, facts });
    if (created && session.imageCount === 0 && isDefaultCaseName(session.name)) {
      const taken = this.repo.listSessions().filter((s) => s.id !== sessionId).map((s) => s.name);
      this.life.rename(sessionId, caseNameForImage(facts.name || basename(path), new Date(session.createdAt), taken));
    }
    await this.imagery.register(id, path);
    return { ...facts, id };
  }

  /** The image as stored, checked to belong to the case and registered with the imagery engine. */
  async imageOf(sessionId: string, imageId: string): Promise<{ row: ImageRow; info: ImageInfo }> {
    const row = this.repo.getImage(imageId);
    if (row.sessionId !== sessionId) throw new VantageError('BAD_INPUT', `image ${imageId} is not part of case ${sessionId}`);
    if (!existsSync(row.path)) {
      throw new VantageError('NOT_FOUND', `the image file ${row.path} has moved or is missing; relink it to continue`);
    }
    await this.register(row);
    return { row, info: this.infoOf(row) };
  }

  /** An image named by id alone (tiles, display, pixel probes): registered with the imagery engine once. */
  async ensureRegistered(imageId: string): Promise<ImageInfo> {
    const row = this.repo.getImage(imageId);
    if (!this.registered.has(imageId)) await this.register(row);
    return this.infoOf(row);
  }

  private async register(row: ImageRow): Promise<void> {
    await this.imagery.register(row.id, row.path);
    this.registered.add(row.id);
  }

  info(imageId: string): ImageInfo {
    return this.infoOf(this.repo.getImage(imageId));
  }

  private infoOf(row: ImageRow): ImageInfo {
    return { ...(row.facts as ImageFacts), id: row.id };
  }
}
