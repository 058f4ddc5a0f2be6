import type { HandlersOf } from '../contract/procedures.js';
import type { FileAccess } from '../files/fileAccess.js';
import type { ReportService } from './reportService.js';

/** reports.*: measured objects, exports and the case's stored reports. */
export function reportHandlers(reports: ReportService, files: FileAccess): HandlersOf<'reports'> {
  return {
    'reports.objects': async (i) => reports.objects(i.sessionId),
    'reports.export': (i) => reports.export({ ...i, folderPath: i.folder ? files.resolve(i.folder, 'dir') : undefined }),
    'reports.list': async (i) => reports.list(i.sessionId),
    'reports.rewrite': async (i) => reports.rewrite(i.reportId, i.folder ? files.resolve(i.folder, 'dir') : undefined),
  };
}
