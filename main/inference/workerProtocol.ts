import type { ErrorPayload } from '../contract/errors.js';
import type { PackInfo } from '../contract/schemas.js';
import type { ProviderStatus } from './executionProviders.js';
import type { AskInput, AskTrace, InstantPrompt, MaskResult, ViewInput } from './pipeline.js';

/** Messages between InferenceHost (main thread) and inferenceWorker. Every request carries a sequence number. */

export type WorkerRequest =
  | { type: 'init'; seq: number; packDir: string; forcedProvider?: string | undefined; webgpuAdapterKnown?: boolean | undefined }
  | { type: 'ask'; seq: number; requestId: string; input: AskInput }
  | { type: 'cancel'; seq: number; requestId: string }
  | { type: 'instantMask'; seq: number; view: ViewInput; prompt: InstantPrompt }
  | { type: 'close'; seq: number };

export interface ReadyInfo {
  pack: PackInfo;
  stageProviders: Record<string, string>;
  providers: ProviderStatus[];
  /** InferencePipeline.decodePath */
  decode: string;
  /** what the host needs to plan views without asking the worker */
  view: { size: number; maxViews: number; maxImagePixels: number };
  /** image sources the pack takes (manifest `sources`), checked before a question is stored */
  sources: string[];
}

export type WorkerReply =
  | ({ type: 'ready'; seq: number } & ReadyInfo)
  | { type: 'token'; seq: number; index: number; text: string }
  | { type: 'mask'; seq: number; mask: MaskResult }
  | { type: 'done'; seq: number; text: string; durationMs: number; provider: string; tokens: number; trace?: AskTrace }
  | { type: 'instantMask'; seq: number; mask: MaskResult }
  | { type: 'closed'; seq: number }
  | { type: 'cancelled'; seq: number }
  | { type: 'error'; seq: number; error: ErrorPayload }
  /** a request took longer than the slow-call threshold (not an error) */
  | { type: 'slow'; seq: number; request: string; ms: number };
