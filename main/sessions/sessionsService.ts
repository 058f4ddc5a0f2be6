import { existsSync, statSync } from 'node:fs';
import type { ImageInfo, MapView, SessionDetail, SessionSummary } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import type { CaseRepository, ImageRow } from '../../db/repository.js';
import type { ImageFacts, ImageryPort } from '../imagery/imageryPort.js';

/** Cases: create, list, open (restoring images, regions, turns, masks and the map view), images within a case. */
export class SessionsService {
  constructor(private readonly repo: CaseRepository, private readonly imagery: ImageryPort) {}

  list(): SessionSummary[] {
    return this.repo.listSessions();
  }

  create(name: string): SessionSummary {
    return this.repo.createSession(name.trim());
  }

  async open(sessionId: string): Promise<SessionDetail> {
    const session = this.repo.getSession(sessionId);
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

  saveView(sessionId: string, view: MapView): void {
    this.repo.saveView(sessionId, view);
  }

  /** Opens an image file into a case; opening the same content again returns the image already there. */
  async openImage(sessionId: string, path: string): Promise<ImageInfo> {
    this.repo.getSession(sessionId);
    const facts = await this.imagery.inspect(path);
    const { id } = this.repo.addImage(sessionId, { path, sha256: facts.sha256, sizeBytes: statSync(path).size, facts });
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
    await this.imagery.register(row.id, row.path);
    return { row, info: this.infoOf(row) };
  }

  info(imageId: string): ImageInfo {
    return this.infoOf(this.repo.getImage(imageId));
  }

  private infoOf(row: ImageRow): ImageInfo {
    return { ...(row.facts as ImageFacts), id: row.id };
  }
}
