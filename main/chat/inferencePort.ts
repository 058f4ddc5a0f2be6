import type { ModelStatus, PackInfo, RegionGeometry } from '../contract/index.js';
import type { MaskResult } from '../inference/pipeline.js';

export type Rect = [number, number, number, number];

export interface AskRequest {
  views: { rect: Rect; rgb: Uint8Array }[];
  /** bitemporal mode: the later image's views on the same rects (pipeline AskInput.viewsB) */
  viewsB?: { rect: Rect; rgb: Uint8Array }[];
  regions: RegionGeometry[];
  text: string;
  history: { role: 'user' | 'assistant'; text: string }[];
  source: 'optical' | 'sar' | 'infrared';
  mode: import('../inference/chatPrompt.js').AskMode;
  maxNewTokens: number;
  sampling: { temperature: number; topP: number; seed: number };
  /** how `<SEG>` masks are made (pipeline AskInput.maskDetail; default 'views' when there are sub-views) */
  maskDetail?: 'global' | 'views';
}

/** A mask as the pipeline produces it (size×size over the global view rect, in image pixels: M×M, or finer from the views). */
export type MaskOut = MaskResult;

export type InferenceEvent = { type: 'token'; index: number; text: string } | { type: 'mask'; mask: MaskOut };

export interface AskResult {
  text: string;
  durationMs: number;
  provider: string;
  tokens: number;
}

/** What the chat and model services need from the inference host (which runs the pipeline in a worker). */
export interface InferencePort {
  loadPack(dir: string): Promise<unknown>;
  status(): ModelStatus;
  planViews(width: number, height: number, regions: RegionGeometry[]): Rect[];
  readonly viewSize: number;
  /** image sources the loaded pack takes (manifest `sources`) */
  readonly sources: readonly string[];
  ask(req: AskRequest, onEvent: (e: InferenceEvent) => void, signal: AbortSignal): Promise<AskResult>;
  /** a mask from a point/box alone on one view; `key` names the view for the grounding-feature cache */
  instantMask(
    view: { rect: Rect; rgb: Uint8Array; key?: string },
    prompt: { kind: 'point'; x: number; y: number } | { kind: 'box'; x0: number; y0: number; x1: number; y1: number },
  ): Promise<MaskOut>;
  close(): Promise<void>;
}

export type { PackInfo };
