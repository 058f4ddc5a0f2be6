import { rasterizePolygons } from '../analysis/maskVectorizer.js';
import { VantageError } from '../contract/errors.js';
import { geochatBoxCorners, parseGeochatBoxes, type GeochatBox } from '../contract/geochatBoxes.js';
import { TASK_MODE_SPECS } from '../contract/taskModes.js';
import type { PackBackend } from './backend.js';
import type { PackCapabilities } from './capabilities.js';
import { forcesSegPrefix, regionFormatOf, regionToken, renderChatPrompt, type AskMode } from './chatPrompt.js';
import type { DecodeRunner } from './decodeRunner.js';
import type { AskInput, AskResult, MaskResult, TokenEvent } from './protocol.js';
import { rasterizeRegions } from './regionRaster.js';
import type { SegmentationPipeline } from './segmentation.js';
import type { TapBox } from './taps.js';
import { feed, floats } from './tensorIo.js';
import type { PackTokenizer } from './tokenizer.js';
import { TokenSampler } from './tokenSampler.js';
import { normalizeViews } from './viewPixels.js';

export interface AskCallbacks {
  onToken: (index: TokenEvent['index'], text: TokenEvent['text']) => void;
  onMask: (mask: MaskResult) => void;
}

/** What the prompt stages hand the decode step. */
interface Spliced {
  t0: number;
  ids: number[];
  imagePositions: number[];
  images: number;
  imageBlocks: Float32Array[];
  regionEmbeds: Float32Array;
  forced: boolean;
  rendered: { text: string; droppedTurns: number };
  clean: (t: string) => string;
}

/**
 * The chat pipeline: prompt (rendered from the pack's template) → vision → prompt stage (image and region
 * embeddings) → splice into the token embeddings → decode, streaming tokens; each `<SEG>` becomes a mask through
 * the segmentation pipeline, named by the phrase before it.
 */
export class ChatPipeline {
  constructor(
    private readonly backend: PackBackend,
    private readonly tokenizer: PackTokenizer | null,
    private readonly segmentation: SegmentationPipeline,
    private readonly capabilities: PackCapabilities,
    private readonly taps: TapBox,
  ) {}

  async ask(input: AskInput, cb: AskCallbacks, signal?: AbortSignal): Promise<AskResult> {
    if (!(input.trace && input.traceTensors)) return this.answer(input, cb, signal);
    const { result, tensors } = await this.taps.around(() => this.answer(input, cb, signal));
    if (result.trace) result.trace.tensors = tensors;
    return result;
  }

  private get name(): string {
    return this.backend.pack.name;
  }

  /** Checks what only the model knows (the chat service has checked the regions and the image source). */
  private validate(input: AskInput): void {
    const m = this.backend.pack.manifest;
    const bitemporal = input.mode === 'bitemporal';
    // bitemporal: no preset masks requirement of its own (masks when the model emits <SEG>)
    const spec = bitemporal ? { needsMasks: false } : TASK_MODE_SPECS[input.mode as Exclude<AskMode, 'bitemporal'>];
    if (!spec) throw new VantageError('BAD_INPUT', `unknown task mode "${String(input.mode)}"`);
    // a GeoChat-box pack's objects are its answer boxes: the mask modes need no grounding/pixel stages there
    if (spec.needsMasks && !this.capabilities.masks && regionFormatOf(m) !== 'geochat-box') {
      throw new VantageError('UNSUPPORTED', `model pack "${this.name}" cannot draw masks (no grounding/pixel stages), needed for ${input.mode} mode; ask in chat mode`);
    }
    const V = input.views.length;
    if (V < 1 || V > m.view.maxViews) {
      throw new VantageError('BAD_INPUT', `an ask needs 1 to ${m.view.maxViews} views (global first), got ${V}`);
    }
    const viewsB = input.viewsB;
    if (bitemporal) {
      if (!this.capabilities.bitemporal) {
        throw new VantageError('UNSUPPORTED', `model pack "${this.name}" has no bitemporal mode (modes: ${m.modes.join(', ') || 'none'}); it cannot compare two images`);
      }
      if (!viewsB || viewsB.length !== V || viewsB.some((v, i) => v.rect.some((c, k) => c !== input.views[i]!.rect[k]))) {
        throw new VantageError('BAD_INPUT', `a bitemporal ask needs the later image's views on the same ${V} rects as the earlier image's`);
      }
    } else if (viewsB) {
      throw new VantageError('BAD_INPUT', `a second image's views are only taken in bitemporal mode, not ${input.mode}`);
    }
    if (input.maskDetail !== undefined && input.maskDetail !== 'global' && input.maskDetail !== 'views') {
      throw new VantageError('BAD_INPUT', `maskDetail must be 'global' or 'views', got "${String(input.maskDetail)}"`);
    }
    if (!(input.maxNewTokens >= 1)) throw new VantageError('BAD_INPUT', `maxNewTokens must be at least 1, got ${input.maxNewTokens}`);
  }

  private async answer(input: AskInput, cb: AskCallbacks, signal?: AbortSignal): Promise<AskResult> {
    const t0 = performance.now();
    const m = this.backend.pack.manifest;
    const llm = m.llm;
    const tok = this.tokenizer;
    const vision = this.backend.stage('vision', 'chat');
    const prompt = this.backend.stage('prompt', 'chat');
    this.backend.requireDecode();
    if (!llm || !tok) throw new VantageError('UNSUPPORTED', `model pack "${this.name}" has no llm section; it cannot chat`);
    this.validate(input);
    const bitemporal = input.mode === 'bitemporal';
    const forced = forcesSegPrefix(m, input.mode);
    const V = input.views.length;
    const viewsB = input.viewsB;
    const images = bitemporal ? 2 : 1;
    const S = m.view.size, N = m.view.tokens, D = llm.hidden;
    const checkAbort = () => {
      if (signal?.aborted) throw new VantageError('CANCELLED', 'the answer was cancelled');
    };

    // Text the user typed must not smuggle in the image placeholder or source tags: they would break the splice.
    const reserved = [m.tokens.image, m.tokens.sources.optical, m.tokens.sources.sar, m.tokens.sources.infrared];
    const clean = (t: string) => reserved.reduce((acc, r) => acc.split(r).join(''), t);
    const rendered = renderChatPrompt(
      m,
      {
        text: clean(input.text),
        history: input.history.map((h) => ({ role: h.role, text: clean(h.text) })),
        source: input.source,
        mode: input.mode,
        regionCount: input.regions.length,
        system: input.system,
        regions: input.regions,
        view: input.views[0]!.rect,
      },
      { maxTokens: llm.maxContext - input.maxNewTokens, imageExtraTokens: images * (V * N - 1), countTokens: (t) => tok.encode(t).length },
    );
    const ids = tok.encode(rendered.text);
    const imageId = tok.requireId(m.tokens.image);
    const imagePositions = ids.flatMap((id, i) => (id === imageId ? [i] : []));
    if (imagePositions.length !== images) {
      throw new VantageError('INTERNAL', `the rendered prompt must hold exactly ${images} ${m.tokens.image}, it holds ${imagePositions.length}`);
    }

    // ---- vision + prompt
    const taps = this.taps.current;
    const pix = normalizeViews(input.views, S, m.view.mean, m.view.std);
    const vOut = await this.backend.timed('vision', vision, { pixel_values: feed(vision, 'pixel_values', pix, [V, 3, S, S]) });
    const visual = floats(vOut.visual_tokens, 'visual_tokens');
    if (taps) Object.assign(taps, { pixel_values: pix, visual_tokens: visual.slice() });
    checkAbort();
    const regionMasks = rasterizeRegions(input.regions, input.views[0]!.rect, S);
    const pOut = await this.backend.timed('prompt', prompt, {
      visual_tokens: feed(prompt, 'visual_tokens', visual, [V, N, D]),
      region_masks: feed(prompt, 'region_masks', regionMasks.data, [regionMasks.count, S, S]),
    });
    const imageEmbeds = floats(pOut.image_embeds, 'image_embeds');
    const regionEmbeds = floats(pOut.region_embeds, 'region_embeds');
    if (taps) Object.assign(taps, { region_masks: regionMasks.data, image_embeds: imageEmbeds.slice(), region_embeds: regionEmbeds.slice() });
    checkAbort();
    // one embedding block per <image>, in order: A's, then (bitemporal) B's from the same two stages on B's views,
    // with the same region masks (regions are drawn in A's global view; their embeddings come from A's pass)
    const imageBlocks: Float32Array[] = [imageEmbeds.slice(0, V * N * D)];
    if (viewsB) {
      const pixB = normalizeViews(viewsB, S, m.view.mean, m.view.std);
      const vB = await this.backend.timed('vision', vision, { pixel_values: feed(vision, 'pixel_values', pixB, [V, 3, S, S]) });
      checkAbort();
      const pB = await this.backend.timed('prompt', prompt, {
        visual_tokens: feed(prompt, 'visual_tokens', floats(vB.visual_tokens, 'visual_tokens'), [V, N, D]),
        region_masks: feed(prompt, 'region_masks', regionMasks.data, [regionMasks.count, S, S]),
      });
      imageBlocks.push(floats(pB.image_embeds, 'image_embeds').slice(0, V * N * D));
      checkAbort();
    }

    // ---- embed + splice, then decode
    const runner = this.backend.decodeRunner();
    try {
      return await this.decode(input, cb, signal, runner, { t0, ids, imagePositions, images, imageBlocks, regionEmbeds, forced, rendered, clean });
    } finally {
      runner.dispose();
    }
  }

  private async decode(input: AskInput, cb: AskCallbacks, signal: AbortSignal | undefined, runner: DecodeRunner, a: Spliced): Promise<AskResult> {
    const { t0, ids, imagePositions, images, imageBlocks, regionEmbeds, forced, rendered, clean } = a;
    const m = this.backend.pack.manifest;
    const llm = m.llm!;
    const tok = this.tokenizer!;
    const taps = this.taps.current;
    const V = input.views.length;
    const N = m.view.tokens, D = llm.hidden;
    const checkAbort = () => {
      if (signal?.aborted) throw new VantageError('CANCELLED', 'the answer was cancelled');
    };
    const tokenEmbeds = await runner.embedIds(ids);
    if (taps) taps.inputs_embeds = tokenEmbeds.slice();
    const regionIds = new Map<number, number>();
    // geochat-box packs read regions as box text in the prompt: no `<region{k}>` ids, no region rows spliced
    const regionRows = regionFormatOf(m) === 'embedding' ? input.regions.length : 0;
    for (let k = 1; k <= regionRows; k++) regionIds.set(tok.requireId(regionToken(m, k)), k - 1);
    const T = ids.length + images * (V * N - 1);
    const seq = new Float32Array(T * D);
    let row = 0;
    const segId = tok.requireId(m.tokens.seg);
    const segPositions: number[] = []; // sequence positions of <SEG> forced into the prompt (ground mode)
    const assistantStart = ids.length - tok.encode(m.chat.assistantPrefix + (forced ? ` ${m.chat.groundPrefix}` : '')).length;
    ids.forEach((id, i) => {
      const block = imagePositions.indexOf(i);
      if (block >= 0) {
        seq.set(imageBlocks[block]!, row * D);
        row += V * N;
        return;
      }
      const region = regionIds.get(id);
      if (region !== undefined) seq.set(regionEmbeds.subarray(region * D, (region + 1) * D), row * D);
      else seq.set(tokenEmbeds.subarray(i * D, (i + 1) * D), row * D);
      if (id === segId && i >= assistantStart) segPositions.push(row);
      row++;
    });

    // ---- decoder: prefill, then one token at a time (the runner keeps the KV cache)
    const V_ = llm.vocab;
    const globalView = input.views[0]!;
    const generated: number[] = [];
    // GeoChat packs may hold `<p>`/`</p>` as plain text (GeoChat's tokenizer has no such tokens): −1 never matches
    const phraseId = (t: string) => (regionFormatOf(m) === 'geochat-box' ? (tok.idOf(t) ?? -1) : tok.requireId(t));
    const phraseOpen = phraseId(m.tokens.phraseOpen), phraseClose = phraseId(m.tokens.phraseClose);
    const stops = new Set(m.tokens.stop.map((s) => tok.requireId(s)));
    const stream = tok.createStreamDecoder();
    const forcedText = forced ? m.chat.groundPrefix : '';
    let tokenEvents = 0;

    const fine = V > 1 && (input.maskDetail ?? 'views') === 'views';
    // which hidden state feeds the pixel decoder for a <SEG> (manifest pixel.segHidden): 'consuming' (contract v1's
    // default: the row of the <SEG> token itself, known one step later) or 'predicting' (LISA / GLaMM / GeoPixel:
    // hidden[input_ids[:, 1:] == SEG], the row whose logits produced <SEG>, known at once)
    const predicting = m.pixel?.segHidden === 'predicting';
    // a <SEG> becomes a mask here: its hidden state through the segmentation pipeline, named by the phrase before it
    const emitMask = async (hidden: Float32Array, phraseIds: number[]) => {
      if (!this.capabilities.masks) return; // chat-only pack: the <SEG> stays text
      const r = await this.segmentation.segMask(input.views, hidden, fine, checkAbort, input.groundingView);
      const found = this.phraseOf(phraseIds, phraseOpen, phraseClose, regionIds);
      // A mask answers the question's region when the phrase names none and the question had exactly one.
      const regionIndex = found.regionIndex ?? (input.regions.length === 1 ? 0 : null);
      cb.onMask({ ...r, phrase: found.phrase ?? (forcedText ? clean(input.text).trim() : null), regionIndex });
    };

    // GeoChat's answer boxes (PACK_CONTRACT.md "Answer boxes", packs with regionFormat 'geochat-box'): each box becomes an
    // object as soon as its `}` is decoded — SAM's mask for it where the pack has grounding + pixel stages (the box as
    // SAM's prompt), else the (turned) box itself — named by the phrase before it, else by the question's text
    const readsBoxes = regionFormatOf(m) === 'geochat-box';
    let boxesDone = 0;
    const emitBox = async (b: GeochatBox) => {
      const corners = geochatBoxCorners(b, { rect: globalView.rect });
      const phrase = b.phrase ?? (clean(input.text).trim() || null);
      const regionIndex = input.regions.length === 1 ? 0 : null;
      if (this.capabilities.masks) {
        const [rx0, ry0, rx1, ry1] = (input.groundingView ?? globalView).rect; // the box within SAM's view
        const xs = corners.map((c) => Math.min(rx1, Math.max(rx0, c[0]))), ys = corners.map((c) => Math.min(ry1, Math.max(ry0, c[1])));
        const box = { kind: 'box' as const, x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
        if (box.x1 > box.x0 && box.y1 > box.y0) {
          // SAM's input for the box: the ask's grounding view of the global rect (SamPredictor's), else the global view
          const r = await this.segmentation.instantMask(input.groundingView ?? globalView, box);
          if (r.data.some((v) => v === 1)) {
            cb.onMask({ data: r.data, size: r.size, rect: r.rect, score: r.score, phrase, regionIndex });
            return;
          }
        }
      }
      cb.onMask(boxObject(corners, phrase, regionIndex));
    };
    const emitBoxes = async () => {
      if (!readsBoxes) return;
      const found = parseGeochatBoxes(stream.text);
      for (; boxesDone < found.length; boxesDone++) {
        checkAbort();
        await emitBox(found[boxesDone]!);
      }
    };

    await runner.prefill(seq, T);
    if (taps) taps.prefill_logits = runner.stepLogits().slice();
    const firstLogits = input.trace ? runner.lastLogits().slice() : new Float32Array(0);
    checkAbort();
    if (forcedText) {
      cb.onToken(tokenEvents++, forcedText);
      for (const pos of segPositions) await emitMask(runner.hidden(predicting ? pos - 1 : pos), []);
    }

    // the forced prefix and the generated answer are joined by one space, in the stream as in the final text
    let answerSep = forcedText ? ' ' : '';
    const sampler = new TokenSampler(input.sampling);
    const traceIds: number[] = [];
    for (;;) {
      checkAbort();
      const next = sampler.next(runner.lastLogits(), 0, V_);
      traceIds.push(next);
      if (stops.has(next)) break;
      generated.push(next);
      const delta = stream.push(next);
      if (delta) {
        cb.onToken(tokenEvents++, answerSep + delta);
        answerSep = '';
        if (delta.includes('}')) await emitBoxes();
      }
      const full = generated.length >= input.maxNewTokens;
      if (next === segId && predicting) await emitMask(runner.lastHidden(), generated.slice(0, -1));
      if (full && (next !== segId || predicting)) break;
      await runner.next(next);
      if (next === segId && !predicting) await emitMask(runner.hidden(0), generated.slice(0, -1));
      if (full) break;
    }

    await emitBoxes();
    const answer = stream.text;
    const result: AskResult = {
      text: forcedText ? `${forcedText}${answer ? ' ' + answer : ''}` : answer,
      durationMs: performance.now() - t0,
      provider: this.backend.provider,
      tokens: generated.length,
      droppedTurns: rendered.droppedTurns,
    };
    if (input.trace) {
      result.trace = { prompt: rendered.text, inputIds: ids, sequenceLength: T, firstLogits, generatedIds: traceIds };
    }
    return result;
  }

  /** The phrase inside the nearest `<p> … </p>` before a `<SEG>`, and the region it names, if any. */
  private phraseOf(ids: number[], open: number, close: number, regionIds: Map<number, number>): { phrase: string | null; regionIndex: number | null } {
    const o = ids.lastIndexOf(open);
    if (o < 0) return { phrase: null, regionIndex: null };
    let c = ids.indexOf(close, o + 1);
    if (c < 0) c = ids.length;
    const inner = ids.slice(o + 1, c);
    let regionIndex: number | null = null;
    for (const id of inner) if (regionIds.has(id)) regionIndex = regionIds.get(id)!;
    const text = this.tokenizer!.decode(inner.filter((id) => !regionIds.has(id))).trim();
    return { phrase: text || null, regionIndex };
  }
}

/** cells per side of an answer box's raster (over the box's bounds): the raster kept beside its exact outline */
const BOX_RASTER = 128;

/** An answer box as an object: its exact ring (image px, closed) and that ring rasterised over its bounds. */
function boxObject(corners: [number, number][], phrase: string | null, regionIndex: number | null): MaskResult {
  const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
  const rect: [number, number, number, number] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  const ring: [number, number][] = [...corners, corners[0]!];
  const N = BOX_RASTER;
  const data = rasterizePolygons([[ring]], N, N, { x0: rect[0], y0: rect[1], sx: (rect[2] - rect[0]) / N, sy: (rect[3] - rect[1]) / N });
  // GeoChat gives no confidence for a box: score 1
  return { data, size: N, rect, score: 1, phrase, regionIndex, polygon: ring };
}
