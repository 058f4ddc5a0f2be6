import { TASK_MODE_SPECS, TASK_MODES, type TaskMode } from '../contract/taskModes.js';
import type { ImageInfo } from '../contract/schemas.js';
import { regionFormatOf, type RegionFormat } from './chatPrompt.js';
import type { PackManifest } from './packManifest.js';

/**
 * What a model pack can do — decided here and nowhere else. The backend builds the loaded pack's object (with the
 * execution provider of every stage and the decode path) and the worker sends it in its ready reply; the pack list
 * reads the same decision for packs that are not loaded. Pure: no onnxruntime here, so the main thread may import it.
 */
export interface PackCapabilities {
  /** vision, prompt, embed and decoder stages: the pack answers questions */
  chat: boolean;
  /** grounding and pixel stages: instant masks, `<SEG>` masks, and the modes that need masks */
  masks: boolean;
  /** the task presets the chat offers (empty for a segmentation-only pack) */
  modes: TaskMode[];
  /** the pack's two-image mode (change captioning) */
  bitemporal: boolean;
  /** how regions reach the model; null without chat */
  regionFormat: RegionFormat | null;
  /** image sources the pack takes */
  sources: ImageInfo['source'][];
  /** loaded packs only: how the decode loop runs, in words; null otherwise */
  decode: string | null;
  /** loaded packs only: the execution provider each stage runs on */
  stageProviders: Record<string, string>;
}

const CHAT_STAGES = ['vision', 'prompt', 'embed', 'decoder'] as const;

/**
 * The stage rule: which stages make chat and masks possible, and so which presets are offered. `boxes`: the pack
 * answers with GeoChat boxes (regionFormat 'geochat-box', PACK_CONTRACT.md "Answer boxes"), which become objects even
 * without grounding + pixel stages, so the modes that need masks are offered to it as well.
 */
function stageRule(stages: readonly string[], boxes = false): { chat: boolean; masks: boolean; modes: TaskMode[] } {
  const chat = CHAT_STAGES.every((s) => stages.includes(s));
  const masks = stages.includes('grounding') && stages.includes('pixel');
  const modes = chat ? TASK_MODES.filter((m) => !TASK_MODE_SPECS[m].needsMasks || masks || boxes) : [];
  return { chat, masks, modes };
}

/** The modes a pack with these stages can run (the UI offers only these). */
export function modesForStages(stages: readonly string[], boxes = false): TaskMode[] {
  return stageRule(stages, boxes).modes;
}

/** A pack's capabilities from its manifest (and, once loaded, from how the backend placed its stages). */
export function packCapabilities(
  pack: { stages: readonly string[]; manifest: PackManifest },
  runtime: { decode: string; stageProviders: Record<string, string> } | null = null,
): PackCapabilities {
  const m = pack.manifest;
  const rule = stageRule(pack.stages, regionFormatOf(m) === 'geochat-box');
  return {
    ...rule,
    chat: rule.chat && m.llm !== undefined,
    bitemporal: rule.chat && m.modes.includes('bitemporal'),
    regionFormat: rule.chat ? regionFormatOf(m) : null,
    sources: [...m.sources] as ImageInfo['source'][],
    decode: runtime?.decode ?? null,
    stageProviders: { ...(runtime?.stageProviders ?? {}) },
  };
}
