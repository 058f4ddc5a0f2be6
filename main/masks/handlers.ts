import type { Handlers } from '../contract/procedures.js';
import type { FileAccess } from '../files/fileAccess.js';
import { batchInput, type BatchMaskService } from './batchMasks.js';
import type { InstantMaskService } from './instantMasks.js';

/** chat.instantMask and chat.batchMasks: masks from points and boxes alone (no question). */
export function maskHandlers(instant: InstantMaskService, batch: BatchMaskService, files: FileAccess): Pick<Handlers, 'chat.instantMask' | 'chat.batchMasks'> {
  return {
    'chat.instantMask': (i) => instant.instantMask(i),
    'chat.batchMasks': (i, emit, signal) => batch.run(batchInput(i, (ref) => files.resolve(ref, 'file')), emit, signal).then(() => {}),
  };
}
