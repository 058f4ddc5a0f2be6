import { VantageError } from '../contract/errors.js';
import { applyTaskTemplate, TASK_MODE_SPECS, type TaskMode } from '../contract/taskModes.js';
import type { PackManifest } from './packManifest.js';

export type ImageSource = 'optical' | 'sar' | 'infrared';
/**
 * `bitemporal` is the pack contract's two-image mode (PACK_CONTRACT.md "Bitemporal mode"): not a task preset of
 * the single-image chat (the chat panel never offers it), but a mode of the sequence itself: two `<image>`s.
 */
export type AskMode = TaskMode | 'bitemporal';

/** Whether the answer opens with the pack's forced grounding prefix ("Sure, it is <SEG>."). */
export function forcesSegPrefix(manifest: Pick<PackManifest, 'chat'>, mode: AskMode): boolean {
  if (mode === 'bitemporal') return false;
  return TASK_MODE_SPECS[mode].forcedPrefix && manifest.chat.groundPrefix !== '';
}

/** The bitemporal instruction (PACK_CONTRACT.md): the whole pair, or the first region, then what the user typed. */
export function bitemporalInstruction(text: string, regionCount: number): string {
  const q = regionCount > 0 ? 'what changed in <region1> ?' : 'what changed between the two images ?';
  return `${q} ${text}`.trim();
}

export interface HistoryTurn {
  role: 'user' | 'assistant';
  text: string;
}

export interface PromptRequest {
  text: string;
  history: HistoryTurn[];
  source: ImageSource;
  mode: AskMode;
  regionCount: number;
  system?: string | undefined;
}

export interface RenderedPrompt {
  text: string;
  /** how many of the oldest history turns were left out to fit the context */
  droppedTurns: number;
}

export interface PromptBudget {
  /** tokens the rendered text may take, after the image placeholder has been expanded */
  maxTokens: number;
  /** extra positions the `<image>` placeholders grow by when image embeddings are spliced in (V·N − 1 each) */
  imageExtraTokens: number;
  countTokens: (text: string) => number;
}

function fill(template: string, content: string): string {
  return template.split('{content}').join(content);
}

export function regionToken(manifest: Pick<PackManifest, 'tokens'>, k: number): string {
  return manifest.tokens.region.split('{k}').join(String(k));
}

/** The user's text with `<region k>` hints appended for each region the text does not name itself. */
export function withRegionHints(manifest: Pick<PackManifest, 'tokens'>, text: string, regionCount: number): string {
  let out = text;
  for (let k = 1; k <= regionCount; k++) {
    const tag = regionToken(manifest, k);
    if (!out.includes(tag)) out += ` ${tag}`;
  }
  return out;
}

/**
 * Renders the conversation with the pack's chat template (PACK_CONTRACT.md "Building the input sequence").
 * The source tag and `<image>` open the first user turn that survives trimming, so the image is never lost
 * when old turns are dropped to fit `llm.maxContext − maxNewTokens`.
 */
export function renderChatPrompt(
  manifest: Pick<PackManifest, 'chat' | 'tokens'>,
  req: PromptRequest,
  budget?: PromptBudget,
): RenderedPrompt {
  if (req.regionCount > manifest.tokens.maxRegions) {
    throw new VantageError('BAD_INPUT', `this model pack accepts at most ${manifest.tokens.maxRegions} regions per question, got ${req.regionCount}; remove some regions`);
  }
  const sourceTag = manifest.tokens.sources[req.source];
  const bitemporal = req.mode === 'bitemporal';
  // bitemporal: "<source> <image> <source> <image>" — the earlier date's views, then the later date's
  const imagePrefix = bitemporal
    ? `${sourceTag} ${manifest.tokens.image} ${sourceTag} ${manifest.tokens.image}`
    : `${sourceTag} ${manifest.tokens.image}`;
  const tasks = (manifest.chat as { tasks?: Record<string, string> }).tasks;
  const instruction = req.mode === 'bitemporal' ? bitemporalInstruction(req.text, req.regionCount) : applyTaskTemplate(req.mode, req.text, tasks);
  const user = withRegionHints(manifest, instruction, req.regionCount);

  const build = (history: HistoryTurn[]): string => {
    const chat = manifest.chat;
    let s = fill(chat.system, req.system ?? chat.defaultSystem);
    let first = true;
    const userTurn = (content: string) => {
      const c = first ? `${imagePrefix} ${content}` : content;
      first = false;
      return fill(chat.user, c);
    };
    for (const t of history) s += t.role === 'user' ? userTurn(t.text) : fill(chat.assistant, t.text);
    s += userTurn(user);
    s += chat.assistantPrefix;
    if (forcesSegPrefix(manifest, req.mode)) s += ` ${chat.groundPrefix}`;
    return s;
  };

  const history = [...req.history];
  let dropped = 0;
  // A conversation shown to the model starts with a user turn.
  while (history.length > 0 && history[0]?.role !== 'user') {
    history.shift();
    dropped++;
  }
  let text = build(history);
  if (budget) {
    const fits = (t: string) => budget.countTokens(t) + budget.imageExtraTokens <= budget.maxTokens;
    while (!fits(text) && history.length > 0) {
      history.shift();
      dropped++;
      while (history.length > 0 && history[0]?.role !== 'user') {
        history.shift();
        dropped++;
      }
      text = build(history);
    }
    if (!fits(text)) {
      const need = budget.countTokens(text) + budget.imageExtraTokens;
      throw new VantageError('BAD_INPUT', `the question needs ${need} tokens with the image but the model allows ${budget.maxTokens} (context minus the answer length); shorten the question or lower the answer length`);
    }
  }
  return { text, droppedTurns: dropped };
}
