import type { ErrorPayload } from '../contract/errors.js';
import type { RegionGeometry } from '../contract/geometry.js';
import type { ChatEvent, ImageInfo, ModelStatus, PackInfo } from '../contract/schemas.js';
import type { PackCapabilities } from './capabilities.js';
import type { AskMode, HistoryTurn } from './chatPrompt.js';
import type { SamplingOptions } from './tokenSampler.js';
import type { Rect, ViewPlan } from './viewPlanner.js';
import type { InstantPreprocess, ViewPad, ViewPixelsSpec, ViewResample } from './viewResample.js';

/**
 * The one place the inference layer's requests and events are typed: what the chat service hands the host
 * (AskRequest), what the host hands the worker (WorkerRequest), what the pipelines produce (MaskResult, AskResult)
 * and what comes back (WorkerReply, InferenceEvent). Shapes that are the contract's are taken from the contract.
 */

export type { Rect };
export type ProviderStatus = ModelStatus['providers'][number];
export type ImageSource = ImageInfo['source'];

export interface ViewInput {
  /** [x0, y0, x1, y1] of the view in image pixels */
  rect: Rect;
  /** S×S×3 RGB bytes, row-major */
  rgb: Uint8Array;
  /** identifies the view's pixels for the grounding cache (e.g. image sha + rect); hashed from rgb when absent */
  key?: string | undefined;
  /**
   * [w, h]: only the top-left w×h view pixels are image; the rest is padding, zero in `pixel_values` as
   * SamPredictor pads its normalised input (an instant mask's view under grounding.preprocess "sam")
   */
  inside?: [number, number] | undefined;
}

/** One question as the inference host takes it (the chat service builds it from the contract's chat.ask input). */
export interface AskRequest {
  views: ViewInput[];
  /**
   * bitemporal mode only: the later date's views, rendered on the same rects as `views` (image B resampled onto
   * image A's grid), in the same order; `views` are then the earlier date's
   */
  viewsB?: ViewInput[] | undefined;
  regions: RegionGeometry[];
  text: string;
  history: HistoryTurn[];
  source: ImageSource;
  mode: AskMode;
  maxNewTokens: number;
  sampling: SamplingOptions;
  /**
   * How `<SEG>` masks are made: 'global' = the pixel decoder on the global view alone (M×M); 'views' = also on every
   * sub-view, composed into one finer mask over the global rect (maskCompose.ts). Default: 'views' when the ask
   * has sub-views.
   */
  maskDetail?: 'global' | 'views' | undefined;
  /**
   * The global rect as the grounding stage takes it, G×G (viewResample.groundingViewOf: SAM's own input for SAM
   * packs). `<SEG>` masks and answer-box prompts then run on it alone, as LISA / GeoPixel feed SAM their image;
   * absent: the global view (resized to G×G when G ≠ S).
   */
  groundingView?: ViewInput | undefined;
}

/** An ask as the worker's pipeline runs it: the host's request plus diagnostics. */
export interface AskInput extends AskRequest {
  system?: string | undefined;
  /** return the ids and first-step logits (tests, diagnostics) */
  trace?: boolean | undefined;
  /** with `trace`: also return every stage's tensors (golden tests against the PyTorch reference; large) */
  traceTensors?: boolean | undefined;
}

export interface MaskResult {
  /** size×size, 1 inside, row-major: M×M (manifest pixel.maskSize), or N×N for a fine `<SEG>` mask (maskCompose.ts) */
  data: Uint8Array;
  size: number;
  /** the global view rect (image px) the mask covers */
  rect: Rect;
  score: number;
  phrase: string | null;
  /** 0-based index into the ask's regions: the region the phrase names, else 0 when the ask had exactly one */
  regionIndex: number | null;
  /** instant masks: the view's grounding features came from the cache (only the pixel decoder ran) */
  cachedFeatures?: boolean;
  /**
   * An object given as a polygon rather than found by the pixel decoder (a GeoChat answer box, PACK_CONTRACT.md
   * "Answer boxes"): its exact outline in image px (closed ring). `data` is then that polygon rasterised over `rect`,
   * kept as the object's raster like any mask's; the stored outline is the polygon itself.
   */
  polygon?: [number, number][];
}

/** A mask as the pipeline produces it (size×size over the global view rect, in image pixels). */
export type MaskOut = MaskResult;

export interface StageTensors {
  pixel_values: Float32Array;
  visual_tokens: Float32Array;
  region_masks: Float32Array;
  image_embeds: Float32Array;
  region_embeds: Float32Array;
  inputs_embeds: Float32Array;
  prefill_logits: Float32Array;
  grounding_pixel_values: Float32Array[];
  image_embeddings: Float32Array[];
  mask_logits: Float32Array[];
  /** fine `<SEG>` masks (maskDetail 'views'): the composed N×N logits, one entry per mask */
  fine_mask_logits?: Float64Array[];
}

export interface AskTrace {
  prompt: string;
  inputIds: number[];
  sequenceLength: number;
  firstLogits: Float32Array;
  /** generated ids including the stop token when one ended the answer */
  generatedIds: number[];
  /** with `traceTensors`: stage inputs/outputs by name (mask_logits / image_embeddings: one entry per pixel call) */
  tensors?: StageTensors;
}

/** What an answer ends with, as the host returns it. */
export interface HostAskResult {
  text: string;
  durationMs: number;
  provider: string;
  tokens: number;
  trace?: AskTrace;
}

/** What the pipeline returns (the host's result plus what only in-process callers read). */
export interface AskResult extends HostAskResult {
  droppedTurns: number;
}

export type InstantPrompt =
  | { kind: 'point'; x: number; y: number; label?: 0 | 1 }
  | { kind: 'box'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'points'; points: { x: number; y: number; label: 0 | 1 }[] };

/** A streamed token is the contract's token event; a streamed mask is the raw mask (the chat service stores it). */
export type TokenEvent = Extract<ChatEvent, { type: 'token' }>;
export type InferenceEvent = TokenEvent | { type: 'mask'; mask: MaskResult };

// ---------------------------------------------------------------------------------------------- host ↔ worker
/** Messages between InferenceHost (main thread) and inferenceWorker. Every request carries a sequence number. */
export type WorkerRequest =
  | { type: 'init'; seq: number; packDir: string; forcedProvider?: string | undefined; webgpuAdapterKnown?: boolean | undefined; webgpuReason?: string | undefined }
  | { type: 'ask'; seq: number; requestId: string; input: AskInput }
  | { type: 'cancel'; seq: number; requestId: string }
  | { type: 'instantMask'; seq: number; view: ViewInput; prompt: InstantPrompt }
  | { type: 'close'; seq: number };

export interface ReadyInfo {
  pack: PackInfo;
  stageProviders: Record<string, string>;
  providers: ProviderStatus[];
  /** the backend's decode path, in words */
  decode: string;
  /** what the host needs to plan views without asking the worker */
  view: { size: number; maxViews: number; maxImagePixels: number; resample?: ViewResample; pad?: ViewPad; mean?: number[]; instant?: InstantPreprocess; groundingSize?: number };
  /** image sources the pack takes (manifest `sources`), checked before a question is stored */
  sources: string[];
  /** what the loaded pack can do: decided once, by the backend (capabilities.ts) */
  capabilities: PackCapabilities;
}

export type WorkerReply =
  | ({ type: 'ready'; seq: number } & ReadyInfo)
  | ({ seq: number } & TokenEvent)
  | { type: 'mask'; seq: number; mask: MaskResult }
  | ({ type: 'done'; seq: number } & HostAskResult)
  | { type: 'instantMask'; seq: number; mask: MaskResult }
  | { type: 'closed'; seq: number }
  | { type: 'cancelled'; seq: number }
  | { type: 'error'; seq: number; error: ErrorPayload }
  /** a request took longer than the slow-call threshold (not an error) */
  | { type: 'slow'; seq: number; request: string; ms: number };

// ---------------------------------------------------------------------------------------------- the port
/** What the chat, mask and model services need from the inference host (which runs the pipelines in a worker). */
export interface InferencePort {
  loadPack(dir: string): Promise<unknown>;
  status(): ModelStatus;
  planViews(width: number, height: number, regions: RegionGeometry[]): Rect[];
  planViewsDetailed?(width: number, height: number, regions: RegionGeometry[]): ViewPlan;
  readonly viewSize: number;
  /** how views are made from image pixels (absent: nearest, no padding) */
  readonly viewPixels?: ViewPixelsSpec;
  /** how an instant mask's tile becomes the grounding input (manifest grounding.preprocess; absent: 'view') */
  readonly instantPreprocess?: InstantPreprocess;
  /** G, the grounding stage's input side (manifest grounding.size; absent: the view size) */
  readonly groundingSize?: number;
  /** image sources the loaded pack takes (manifest `sources`) */
  readonly sources: readonly string[];
  /** what the loaded pack can do (the worker's ready reply) */
  readonly capabilities: PackCapabilities;
  ask(req: AskRequest, onEvent: (e: InferenceEvent) => void, signal: AbortSignal): Promise<HostAskResult>;
  /** a mask from a point/box alone on one view; `key` names the view for the grounding-feature cache */
  instantMask(view: ViewInput, prompt: InstantPrompt): Promise<MaskResult>;
  close(): Promise<void>;
}
