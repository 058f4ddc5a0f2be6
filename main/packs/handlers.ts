import type { HandlersOf } from '../contract/procedures.js';
import type { FileAccess } from '../files/fileAccess.js';
import type { ModelService } from './modelService.js';

/** models.*: model packs — installed, selected, loaded. */
export function modelHandlers(models: ModelService, files: FileAccess): HandlersOf<'models'> {
  return {
    'models.status': async () => models.status(),
    'models.list': () => models.list(),
    'models.install': (i) => models.install(files.resolve(i.file), { allowUnsigned: i.allowUnsigned === true }),
    'models.select': (i) => models.select(i.name, i.version),
    'models.remove': (i) => models.remove(i.name, i.version).then(() => ({ ok: true as const })),
  };
}
