import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CaseLifecycleRepository } from '../../db/caseLifecycle.js';
import { openDatabase, type Db } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import { ImageryService } from '../imagery/imageryService.js';
import { SessionsService } from '../sessions/sessionsService.js';
import { CaseFileService, type CaseReaderOptions } from '../cases/caseFileService.js';
import { remeasureCase } from '../masks/measure.js';

/** Real services over real SQLite data folders (what createServices builds, minus inference), closed together. */
export function caseApps() {
  const open: { db: Db; imagery: ImageryService }[] = [];
  return {
    /** a data folder `dataDir` with its database, repository, sessions and case-file services */
    app(dataDir: string, reader: CaseReaderOptions) {
      mkdirSync(dataDir, { recursive: true });
      const db = openDatabase(path.join(dataDir, 'vantage.db'));
      const imagery = new ImageryService({});
      open.push({ db, imagery });
      const repo = new CaseRepository(db);
      const life = new CaseLifecycleRepository(db);
      const sessions = new SessionsService(repo, imagery, life);
      return { dataDir, db, repo, life, sessions, files: new CaseFileService(db, dataDir, '0.1.0', { reader, remeasure: remeasureCase }) };
    },
    async closeAll() {
      for (const o of open.splice(0)) {
        await o.imagery.close();
        o.db.close();
      }
    },
  };
}
export type CaseApp = ReturnType<ReturnType<typeof caseApps>['app']>;

/** A small real PNG (32×24) whose pixels depend on `seed`. */
export async function pngFile(file: string, seed: number): Promise<string> {
  const raw = Buffer.alloc(32 * 24 * 3, 0).map((_, i) => (i * seed) % 251);
  await sharp(raw, { raw: { width: 32, height: 24, channels: 3 } }).png().toFile(file);
  return file;
}

/** A case with an image, a question with a box region, an answer with a mask, and a saved map view. */
export async function caseWithWork(a: CaseApp, imageFile: string) {
  const s = a.sessions.create('Port survey');
  const img = await a.sessions.openImage(s.id, imageFile);
  const q = a.repo.addQuestion({ sessionId: s.id, imageId: img.id, text: 'ships near <region1>?', regions: [{ geometry: { kind: 'box', x0: 1, y0: 2, x1: 9, y1: 8 }, wgs84: null }] });
  a.repo.addMask({ turnId: q.assistantTurnId, imageId: img.id, regionId: q.regions[0]!.id, phrase: 'ship', score: 0.8, bbox: [1, 2, 3, 4], rle: { width: 2, height: 2, origin: [1, 2], runs: [0, 4] }, polygons: [[[[1, 2], [3, 2], [3, 4], [1, 4], [1, 2]]]], areaPx: 4 });
  a.repo.finishTurn(q.assistantTurnId, { text: 'two ships', status: 'complete', durationMs: 3, pack: null, provider: 'cpu' });
  a.sessions.saveView(s.id, { lat: 12.8, lng: 45, zoom: 14 });
  return { s, img };
}
