import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import { ImageryService } from '../imagery/imageryService.js';
import { buildInferenceWorker } from '../inference/buildWorker.js';
import { InferenceHost } from '../inference/inferenceHost.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { ModelService } from '../packs/modelService.js';
import { SessionsService } from '../sessions/sessionsService.js';

/**
 * Real services with the test pack loaded in a real inference worker, over a fresh SQLite data folder, with one
 * case holding `imageFile`: what chat and mask tests build before they ask. `close()` releases it all.
 */
export async function modelServices(imageFile: string, prefix: string) {
  const tmp = mkdtempSync(path.join(tmpdir(), `vantage-${prefix}-`));
  const db = openDatabase(path.join(tmp, 'vantage.db'));
  const repo = new CaseRepository(db);
  const imagery = new ImageryService({});
  const host = new InferenceHost({ workerUrl: await buildInferenceWorker(), forcedProvider: '' });
  const sessions = new SessionsService(repo, imagery);
  const models = new ModelService(host, { builtinDir: testPackDir });
  const sessionId = sessions.create('modes').id;
  const imageId = (await sessions.openImage(sessionId, imageFile)).id;
  return {
    tmp, db, repo, imagery, host, sessions, models, sessionId, imageId,
    async close() {
      await host.close();
      await imagery.close();
      db.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
