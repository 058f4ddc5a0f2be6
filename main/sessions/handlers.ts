import type { HandlersOf } from '../contract/procedures.js';
import type { CaseFileService } from '../cases/caseFileService.js';
import type { FileAccess } from '../files/fileAccess.js';
import type { CaseImagery } from './caseImagery.js';
import type { SessionsService } from './sessionsService.js';

/** sessions.*: cases — their life cycle, the map view, and `.vantage` case files (cases/caseFileService.ts). */
export function sessionHandlers(sessions: SessionsService, caseFiles: CaseFileService, files: FileAccess): HandlersOf<'sessions'> {
  return {
    'sessions.list': async (i) => sessions.list(i.query),
    'sessions.rename': async (i) => sessions.rename(i.sessionId, i.name),
    'sessions.duplicate': async (i) => sessions.duplicate(i.sessionId, i.name),
    'sessions.delete': async (i) => ({ ok: true as const, ...sessions.delete(i.sessionId) }),
    'sessions.restore': async (i) => sessions.restore(i.sessionId),
    'sessions.deleted': async () => sessions.listDeleted(),
    'sessions.purge': async (i) => ({ purged: sessions.purge(i.sessionId) }),
    'sessions.export': (i) => caseFiles.export({ ...i, folder: files.resolve(i.folder, 'dir') }).then((r) => ({ fileName: r.fileName, bytes: r.bytes, embeddedImages: r.embeddedImages })),
    'sessions.import': (i) => caseFiles.import(files.resolve(i.file, 'file')),
    'sessions.create': async (i) => sessions.create(i.name),
    'sessions.open': (i) => sessions.open(i.sessionId),
    'sessions.saveView': async (i) => sessions.saveView(i.sessionId, i.view),
  };
}

type CaseImageryCalls = Exclude<keyof HandlersOf<'imagery'>, 'imagery.setBasemap' | 'imagery.basemap' | 'imagery.basemapTile'>;

/** imagery.* of a case's images (the offline basemap's calls are imagery/handlers.ts). */
export function caseImageryHandlers(images: CaseImagery, sessions: SessionsService, files: FileAccess): Pick<HandlersOf<'imagery'>, CaseImageryCalls> {
  return {
    'imagery.open': (i) => sessions.openImage(i.sessionId, files.resolve(i.file, 'file')),
    'imagery.info': (i) => images.info(i.imageId),
    'imagery.setDisplay': (i) => images.setDisplay(i),
    'imagery.setLayer': (i) => images.setLayer(i),
    'imagery.setSourceKind': (i) => images.setSourceKind(i),
    'imagery.setSarScale': (i) => images.setSarScale(i),
    'imagery.setOrder': async (i) => images.setOrder(i),
    'imagery.pixel': (i) => images.pixel(i),
    'imagery.relink': (i) => sessions.relink(i.imageId, files.resolve(i.file, 'file')),
    'imagery.tile': (i) => images.tile(i),
  };
}
