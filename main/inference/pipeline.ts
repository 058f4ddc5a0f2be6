import { PackBackend, type BackendOptions, type ProviderStatus, type StageTimes } from './backend.js';
import type { PackCapabilities } from './capabilities.js';
import { ChatPipeline, type AskCallbacks } from './chatPipeline.js';
import { regionFormatOf } from './chatPrompt.js';
import { loadPack, type LoadedPackInfo } from './packManifest.js';
import type { AskInput, AskResult, InstantPrompt, MaskResult, ViewInput } from './protocol.js';
import { SegmentationPipeline } from './segmentation.js';
import { TapBox } from './taps.js';
import { PackTokenizer } from './tokenizer.js';

export type { AskCallbacks, AskInput, AskResult, InstantPrompt, MaskResult, ViewInput };

/**
 * One loaded pack, as the worker holds it: the backend (stage sessions on their execution providers), the chat
 * pipeline and the segmentation pipeline, sharing the sessions, the grounding cache and the tensor taps.
 */
export class InferencePipeline {
  /** what this pack can do, decided once by the backend when it loaded */
  readonly capabilities: PackCapabilities;

  private constructor(
    private readonly backend: PackBackend,
    private readonly segmentation: SegmentationPipeline,
    private readonly chat: ChatPipeline,
  ) {
    this.capabilities = backend.capabilities;
  }

  /** `native: false` keeps embed + decoder on the stock binding (tests and the benchmark compare the two) */
  static async create(packDir: string, opts: BackendOptions & { builtin?: boolean } = {}): Promise<InferencePipeline> {
    const pack = await loadPack(packDir, { builtin: opts.builtin });
    const tokenizer = pack.stageFiles.embed || pack.stageFiles.decoder ? await PackTokenizer.load(pack.tokenizerFile) : null;
    const backend = await PackBackend.load(pack, opts);
    try {
      if (tokenizer) {
        const m = pack.manifest;
        // GeoChat packs read and write `<p> … </p>` as plain text (PACK_CONTRACT.md "Answer boxes"): no single ids needed
        const phrases = regionFormatOf(m) === 'geochat-box' ? [] : [m.tokens.phraseOpen, m.tokens.phraseClose];
        for (const t of [m.tokens.image, m.tokens.seg, ...phrases, ...m.tokens.stop]) tokenizer.requireId(t);
      }
    } catch (err) {
      await backend.dispose();
      throw err;
    }
    const taps = new TapBox();
    const segmentation = new SegmentationPipeline(backend, taps);
    return new InferencePipeline(backend, segmentation, new ChatPipeline(backend, tokenizer, segmentation, backend.capabilities, taps));
  }

  get pack(): LoadedPackInfo {
    return this.backend.pack;
  }
  get providers(): ProviderStatus[] {
    return this.backend.providers;
  }
  get stageProviders(): Record<string, string> {
    return this.backend.stageProviders;
  }
  /** how the decode loop runs, in words (status bar, `vantage ask --json`, benchmark) */
  get decodePath(): string {
    return this.backend.decodePath;
  }
  /** wall time per stage since load (the benchmark reads and resets it) */
  get stageTimes(): StageTimes {
    return this.backend.stageTimes;
  }
  /** grounding-encoder runs vs cache hits */
  get groundingStats(): { runs: number; hits: number } {
    return this.segmentation.groundingStats;
  }
  /** The provider that runs the answer (the decoder's), or the pixel decoder's for segmentation-only packs. */
  get provider(): string {
    return this.backend.provider;
  }

  canChat(): boolean {
    return this.capabilities.chat;
  }
  canSegment(): boolean {
    return this.capabilities.masks;
  }

  ask(input: AskInput, cb: AskCallbacks, signal?: AbortSignal): Promise<AskResult> {
    return this.chat.ask(input, cb, signal);
  }

  instantMask(view: ViewInput, prompt: InstantPrompt): Promise<MaskResult> {
    return this.segmentation.instantMask(view, prompt);
  }

  async dispose(): Promise<void> {
    this.segmentation.dispose();
    await this.backend.dispose();
  }
}
