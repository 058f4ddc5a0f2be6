import type { ParsedInputOf } from '../contract/procedures.js';
import type { CaseRepository } from '../../db/repository.js';
import type { ImageryService } from '../imagery/imageryService.js';
import type { SessionsService } from './sessionsService.js';

/**
 * A case's images as the imagery engine shows them: its facts with the stored display, layer settings and overview
 * state; each call first registers the image (by id) with the engine.
 */
export class CaseImagery {
  constructor(
    private readonly repo: CaseRepository,
    private readonly sessions: SessionsService,
    private readonly imagery: ImageryService,
  ) {}

  async info(imageId: string) {
    const facts = await this.sessions.ensureRegistered(imageId);
    return { ...facts, display: await this.imagery.display(imageId), layer: await this.imagery.layer(imageId), overviewBuild: await this.imagery.overviewBuild(imageId), sourceDecision: await this.imagery.sourceDecision(imageId) };
  }

  async setDisplay(i: ParsedInputOf<'imagery.setDisplay'>) {
    await this.sessions.ensureRegistered(i.imageId);
    return { display: await this.imagery.setDisplay(i.imageId, i.display) };
  }

  async setSourceKind(i: ParsedInputOf<'imagery.setSourceKind'>) {
    await this.sessions.ensureRegistered(i.imageId);
    return this.imagery.setSourceKind(i.imageId, i.kind);
  }

  async setSarScale(i: ParsedInputOf<'imagery.setSarScale'>) {
    await this.sessions.ensureRegistered(i.imageId);
    return this.imagery.setSarScale(i.imageId, i.scale);
  }

  async setLayer(i: ParsedInputOf<'imagery.setLayer'>) {
    await this.sessions.ensureRegistered(i.imageId);
    return { layer: await this.imagery.setLayer(i.imageId, i.layer) };
  }

  setOrder(i: ParsedInputOf<'imagery.setOrder'>): { ok: true } {
    this.repo.setImageOrder(i.sessionId, i.imageIds);
    return { ok: true };
  }

  async pixel(i: ParsedInputOf<'imagery.pixel'>) {
    await this.sessions.ensureRegistered(i.imageId);
    return this.imagery.pixel(i.imageId, i.x, i.y);
  }

  async tile(i: ParsedInputOf<'imagery.tile'>) {
    await this.sessions.ensureRegistered(i.imageId);
    return this.imagery.tile(i.imageId, i.z, i.x, i.y, i.pad ?? 0);
  }
}
