import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import { ImageryService } from '../imagery/imageryService.js';
import { ReportService } from '../reports/reportService.js';

/** A real case database in a temporary folder with one image added, and the report service over it; close() removes it. */
export async function reportCase(prefix: string, caseName: string, imageFile: string) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const db = openDatabase(path.join(dir, 'case.db'));
  const repo = new CaseRepository(db);
  const imagery = new ImageryService({});
  const service = new ReportService(repo, imagery, 'test');
  const sessionId = repo.createSession(caseName).id;
  const facts = await imagery.inspect(imageFile);
  const { id: imageId } = repo.addImage(sessionId, { path: imageFile, sha256: facts.sha256, sizeBytes: 1, facts });
  return {
    dir, db, repo, imagery, service, sessionId, imageId, facts,
    async close() {
      await imagery.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
