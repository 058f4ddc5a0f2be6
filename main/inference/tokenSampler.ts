import { seededRandom } from '../util/seededRandom.js';

export interface SamplingOptions {
  /** 0 = greedy */
  temperature: number;
  topP: number;
  seed: number;
}


export function argmax(logits: Float32Array, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i]!;
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** Picks the next token from one row of logits: greedy, or temperature + nucleus (top-p) sampling. */
export class TokenSampler {
  private readonly random: () => number;

  constructor(private readonly opts: SamplingOptions) {
    this.random = seededRandom(opts.seed);
  }

  next(logits: Float32Array, offset: number, vocab: number): number {
    if (!(this.opts.temperature > 0)) return argmax(logits, offset, vocab);
    const t = this.opts.temperature;
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]!);
    const probs = new Float64Array(vocab);
    let sum = 0;
    for (let i = 0; i < vocab; i++) {
      const p = Math.exp((logits[offset + i]! - max) / t);
      probs[i] = p;
      sum += p;
    }
    const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
    const topP = Math.min(1, Math.max(0, this.opts.topP || 1));
    let kept = 0;
    let mass = 0;
    for (const i of order) {
      mass += probs[i]! / sum;
      kept++;
      if (mass >= topP) break;
    }
    let r = this.random() * mass;
    for (let k = 0; k < kept; k++) {
      const i = order[k]!;
      r -= probs[i]! / sum;
      if (r <= 0) return i;
    }
    return order[kept - 1]!;
  }
}
