import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { VantageError } from '../contract/errors.js';
import { parseJsonText } from '../util/json.js';

/** The pack's tokenizer.json behind a small interface: ids in, text out, special tokens as single ids. */
export class PackTokenizer {
  private constructor(private readonly tok: Tokenizer) {}

  static async load(file: string): Promise<PackTokenizer> {
    let json: unknown;
    try {
      json = parseJsonText(await readFile(file, 'utf8'));
    } catch (err) {
      throw new VantageError('BAD_INPUT', `tokenizer.json at ${file} cannot be read: ${(err as Error).message}`);
    }
    // Default options on purpose: the packs' reference decodes use them (clean-up turns "word ." into "word.").
    return new PackTokenizer(new Tokenizer(json as object, {}));
  }

  /** Text to ids without adding BOS/EOS: the chat template spells every special token out. */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return ''; // tokenizers.js rejects an empty list
    return this.tok.decode([...ids], { skip_special_tokens: false });
  }

  /** Id of a token the manifest names (e.g. `<SEG>`); fails loudly when the pack's tokenizer lacks it. */
  requireId(token: string): number {
    const id = this.tok.token_to_id(token);
    if (id === undefined) {
      throw new VantageError('BAD_INPUT', `model pack tokenizer has no token "${token}" although manifest.json names it; the pack is inconsistent`);
    }
    return id;
  }

  idOf(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  createStreamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }
}

/**
 * Incremental detokeniser: emits the text each new token adds. Decoding token by token is wrong for byte-level
 * BPE (a multi-byte character spans tokens) and for decoders that strip a leading space, so it decodes the
 * whole generated suffix and emits the difference, holding back while the tail is an incomplete character.
 */
export class StreamDecoder {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly tokenizer: PackTokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    if (text.endsWith('\uFFFD')) return '';
    // Clean-up may rewrite already-sent text (" ." → "."); the stream then continues after the common prefix and
    // the final answer text (done) is authoritative.
    let common = 0;
    while (common < this.emitted.length && common < text.length && this.emitted[common] === text[common]) common++;
    const delta = text.slice(Math.max(common, Math.min(this.emitted.length, text.length)));
    this.emitted = text;
    return delta;
  }

  /** All text so far (including any held-back tail). */
  get text(): string {
    return this.tokenizer.decode(this.ids);
  }
}
