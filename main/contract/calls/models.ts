import { z } from 'zod';
import { FileRef, ModelStatus, PackInfo, PackSignature } from '../schemas.js';
import { TaskMode } from '../taskModes.js';
import { call, empty, ok } from './define.js';

/** One pack as the pack manager lists it: what it is, where it sits, and what the UI may offer with it. */
export const PackEntry = PackInfo.extend({
  /** the pack the next start (and the running app) uses */
  selected: z.boolean(),
  /** task modes its stages allow (segmentation-only packs: none of the chat modes; chat-only packs: no mask modes) */
  tasks: z.array(TaskMode),
  /** instant masks need only the grounding + pixel stages */
  instantMasks: z.boolean(),
  /** manifest.sig checked against the keys the user trusts (`vantage packs trust`); the built-in test pack is unsigned */
  signature: PackSignature,
});
export type PackEntry = z.infer<typeof PackEntry>;

const PackKey = z.object({ name: z.string().min(1).max(200), version: z.string().min(1).max(100) }).strict();

export const modelCalls = {
  'models.status': call(empty, ModelStatus),
  'models.list': call(empty, z.array(PackEntry)),
  /**
   * side-load a pack from a folder or a .zip (offline); every sha256 is verified before it is installed. A pack that is
   * unsigned or signed by a key the user does not trust is refused (UNSUPPORTED, issues [{path: 'allowUnsigned'}])
   * unless `allowUnsigned` confirms it; a signature that does not verify is refused always.
   */
  'models.install': call(z.object({ file: FileRef, allowUnsigned: z.boolean().optional() }).strict(), PackEntry),
  /** persist the choice and load that pack */
  'models.select': call(PackKey, ModelStatus),
  'models.remove': call(PackKey, ok),
} as const;
