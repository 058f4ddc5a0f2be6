import { z } from 'zod';

/**
 * Task modes: presets that set the instruction around the user's text and which regions/stages a question needs.
 * Pure (shared with the renderer). `chat` and `ground` predate the presets and keep their meaning; `segment`
 * is referring segmentation with the same forced "<SEG>" prefix as `ground`.
 */
export const TASK_MODES = [
  'chat',
  'ground',
  'segment',
  'refer-classify',
  'region-caption',
  'relation',
  'image-caption',
  'scene',
  'grounded-description',
] as const;
export const TaskMode = z.enum(TASK_MODES);
export type TaskMode = z.infer<typeof TaskMode>;

export interface TaskModeSpec {
  label: string;
  /** instruction with {text} for what the user typed (may be empty); chat and ground pass the text unchanged */
  template: string;
  /** regions the question must carry */
  minRegions: number;
  /** needs the grounding + pixel stages (masks) */
  needsMasks: boolean;
  /** the answer starts with the pack's chat.groundPrefix ("Sure, it is <SEG>.") */
  forcedPrefix: boolean;
  /** the user's text may be empty: the preset alone is a full question */
  textOptional: boolean;
}

export const TASK_MODE_SPECS: Record<TaskMode, TaskModeSpec> = {
  chat: { label: 'Free chat', template: '{text}', minRegions: 0, needsMasks: false, forcedPrefix: false, textOptional: false },
  ground: { label: 'Ground (mask the answer)', template: '{text}', minRegions: 0, needsMasks: true, forcedPrefix: true, textOptional: false },
  segment: { label: 'Referring segmentation', template: 'Please segment {text}.', minRegions: 0, needsMasks: true, forcedPrefix: true, textOptional: false },
  'refer-classify': { label: 'Classify region', template: 'What is the category of the object in <region1>? {text}', minRegions: 1, needsMasks: false, forcedPrefix: false, textOptional: true },
  'region-caption': { label: 'Caption region', template: 'Describe <region1> briefly. {text}', minRegions: 1, needsMasks: false, forcedPrefix: false, textOptional: true },
  relation: { label: 'Relationship', template: 'What is the relationship between <region1> and <region2>? {text}', minRegions: 2, needsMasks: false, forcedPrefix: false, textOptional: true },
  'image-caption': { label: 'Caption image', template: 'Describe this image briefly. {text}', minRegions: 0, needsMasks: false, forcedPrefix: false, textOptional: true },
  scene: { label: 'Scene class', template: 'Classify the scene of this image in one word. {text}', minRegions: 0, needsMasks: false, forcedPrefix: false, textOptional: true },
  'grounded-description': {
    label: 'Grounded description',
    template: 'Describe the image in detail, marking each object you name with <p> phrase </p> <SEG>. {text}',
    minRegions: 0,
    needsMasks: true,
    forcedPrefix: false,
    textOptional: true,
  },
};

/** The user's text wrapped in the mode's instruction (a pack may override the template per mode). */
export function applyTaskTemplate(mode: TaskMode, text: string, overrides?: Record<string, string>): string {
  const template = overrides?.[mode] ?? TASK_MODE_SPECS[mode].template;
  return template.split('{text}').join(text).trim();
}
