import type { HandlersOf } from '../contract/procedures.js';
import type { ChangeCaptionService } from './changeCaptionService.js';
import type { ChangeService } from './changeService.js';

/** change.*: change between two images of a case, measured and captioned. */
export function changeHandlers(change: ChangeService, caption: ChangeCaptionService): HandlersOf<'change'> {
  return {
    'change.analyze': (i) => change.analyze(i),
    'change.caption': (i, emit, signal) => caption.caption(i, emit, signal),
  };
}
