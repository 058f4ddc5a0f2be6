import type { Handlers, HandlersOf } from '../contract/procedures.js';
import type { FileAccess } from '../files/fileAccess.js';
import { batchInput, type BatchMaskService } from './batchMasks.js';
import type { InstantMaskService } from './instantMasks.js';
import type { ObjectEditService } from './objectEdits.js';

/** chat.instantMask and chat.batchMasks: masks from points and boxes alone (no question). */
export function maskHandlers(instant: InstantMaskService, batch: BatchMaskService, files: FileAccess): Pick<Handlers, 'chat.instantMask' | 'chat.batchMasks'> {
  return {
    'chat.instantMask': (i) => instant.instantMask(i),
    'chat.batchMasks': (i, emit, signal) => batch.run(batchInput(i, (ref) => files.resolve(ref, 'file')), emit, signal).then(() => {}),
  };
}

/** masks.*: the case's objects as the analyst manages them (rename, colour, delete, undo). */
export function objectHandlers(edits: ObjectEditService): HandlersOf<'masks'> {
  return {
    'masks.update': async (i) => edits.update(i.maskId, { label: i.label, colour: i.colour }),
    'masks.delete': async (i) => ({ ok: true as const, mask: edits.delete(i.maskId) }),
    'masks.restore': async (i) => edits.restore(i.maskId),
  };
}
