import { VantageError } from '../contract/errors.js';
import type { RegionGeometry } from '../contract/geometry.js';
import { applyTaskTemplate, TASK_MODE_SPECS, type TaskMode } from '../contract/taskModes.js';
import type { PackManifest } from './packManifest.js';
import { regionBounds, type Rect } from './viewPlanner.js';

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
  /**
   * `tokens.regionFormat: "geochat-box"` only: the regions' geometries (image px) and the global view rect they are
   * normalised to; each `<region{k}>` is then written as region k's box in text (geochatBox)
   */
  regions?: RegionGeometry[] | undefined;
  view?: Rect | undefined;
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

/**
 * How regions reach the model (manifest `tokens.regionFormat`, PACK_CONTRACT.md "Region format"): 'embedding' (the
 * default) splices the prompt stage's region_embeds at each `<region{k}>`; 'geochat-box' writes each region as its
 * bounding box in text, as GeoChat reads it, and splices no region rows.
 */
export type RegionFormat = 'embedding' | 'geochat-box';

export function regionFormatOf(manifest: Pick<PackManifest, 'tokens'>): RegionFormat {
  return manifest.tokens.regionFormat ?? 'embedding';
}

/**
 * GeoChat's task tag for a mode, opening the new user turn in 'geochat-box' packs (GeoChat: `[identify]` for a
 * box's category or caption, `[grounding]` for a description with boxes, `[refer]` for locating a phrase). Modes
 * without one keep the plain prompt.
 */
export const GEOCHAT_TASK_TAGS: Partial<Record<AskMode, string>> = {
  'refer-classify': '[identify]',
  'region-caption': '[identify]',
  'grounded-description': '[grounding]',
  segment: '[refer]',
};


/**
 * A region as GeoChat's demo writes a user box: `{<x_left><y_top><x_right><y_bottom>}`, integers on 0–100 of the
 * global view `view` (x by its width, y by its height), rounded outwards (left/top down, right/bottom up) and clamped
 * to 0–100; no `|<θ>` angle (Vantage regions are not rotated). The box of a circle, scribble (± width/2) or polygon is its
 * bounding box; a point becomes the box 1 unit (1% of the view side) each way around it.
 */
export function geochatBox(g: RegionGeometry, view: Rect): string {
  const [vx0, vy0, vx1, vy1] = view;
  let [x0, y0, x1, y1] = regionBounds(g);
  if (g.kind === 'point') {
    const ux = (vx1 - vx0) / 100, uy = (vy1 - vy0) / 100;
    [x0, y0, x1, y1] = [x0 - ux, y0 - uy, x1 + ux, y1 + uy];
  }
  const clamp = (v: number) => Math.min(100, Math.max(0, v));
  // 1e-9: 100·(x − x0)/w is not always exact in float64; a value a rounding error off an integer stays that integer
  const lo = (v: number, a: number, b: number) => clamp(Math.floor((100 * (v - a)) / (b - a) + 1e-9));
  const hi = (v: number, a: number, b: number) => clamp(Math.ceil((100 * (v - a)) / (b - a) - 1e-9));
  return `{<${lo(x0, vx0, vx1)}><${lo(y0, vy0, vy1)}><${hi(x1, vx0, vx1)}><${hi(y1, vy0, vy1)}>}`;
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
 * How the first user turn opens (manifest `chat.imagePrefix`, PACK_CONTRACT.md "Building the input sequence"):
 * `{source}` is the source tag, `{image}` the image token. The default writes `"<optical> <image> "`; GeoChat /
 * LLaVA-1.5 packs write `"{image}\n"` (their conversation template puts `<image>\n` before the question).
 */
export const DEFAULT_IMAGE_PREFIX = '{source} {image} ';

export function imageOpening(manifest: Pick<PackManifest, 'chat'>): string {
  return manifest.chat.imagePrefix ?? DEFAULT_IMAGE_PREFIX;
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
  const opening = imageOpening(manifest).split('{source}').join(sourceTag).split('{image}').join(manifest.tokens.image);
  // bitemporal: "<source> <image> <source> <image> " — the earlier date's views, then the later date's
  const imagePrefix = bitemporal ? opening + opening : opening;
  const tasks = (manifest.chat as { tasks?: Record<string, string> }).tasks;
  const instruction = req.mode === 'bitemporal' ? bitemporalInstruction(req.text, req.regionCount) : applyTaskTemplate(req.mode, req.text, tasks);
  const geochat = regionFormatOf(manifest) === 'geochat-box';
  const tag = geochat ? GEOCHAT_TASK_TAGS[req.mode] : undefined;
  const user = (tag ? `${tag} ` : '') + withRegionHints(manifest, instruction, req.regionCount);
  let boxes: string[] = [];
  if (geochat && req.regionCount > 0) {
    const view = req.view;
    if (!req.regions || req.regions.length !== req.regionCount || !view) {
      throw new VantageError('INTERNAL', `a geochat-box pack needs the ${req.regionCount} region geometries and the global view rect to write the regions as boxes`);
    }
    boxes = req.regions.map((g) => geochatBox(g, view));
  }
  // geochat-box: every `<region{k}>` of the conversation becomes region k's box (as the splice would replace it)
  const withBoxes = (s: string) => boxes.reduce((acc, box, i) => acc.split(regionToken(manifest, i + 1)).join(box), s);

  const build = (history: HistoryTurn[]): string => {
    const chat = manifest.chat;
    let s = fill(chat.system, req.system ?? chat.defaultSystem);
    let first = true;
    const userTurn = (content: string) => {
      const c = first ? `${imagePrefix}${content}` : content;
      first = false;
      return fill(chat.user, c);
    };
    for (const t of history) s += t.role === 'user' ? userTurn(t.text) : fill(chat.assistant, t.text);
    s += userTurn(user);
    s += chat.assistantPrefix;
    if (forcesSegPrefix(manifest, req.mode)) s += ` ${chat.groundPrefix}`;
    return withBoxes(s);
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
