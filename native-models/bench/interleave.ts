import type { DecodeRunner } from '../../main/inference/decodeRunner.js';

/**
 * Two decoders timed pair by pair (issue 16: this 2-core machine is noisy, so a comparison is the median of pairs
 * run back to back, with the side that goes first alternating, and counts how many pairs reach 1.0).
 */
export interface TimedSide {
  /** a new conversation with `n` prompt rows; ms of that prefill including the read of its last logits row */
  prefill(n: number): Promise<number>;
  /** a new conversation filled to `ctx` positions plus one warm-up token (untimed) */
  open(ctx: number): Promise<void>;
  /** `k` more tokens on the open conversation; ms per token */
  tokens(k: number): Promise<number>;
}

export interface Pair {
  aMs: number;
  bMs: number;
}

export interface PairSummary {
  aMs: number;
  bMs: number;
  /** median over the pairs of aMs / bMs: ≥ 1 when b is at least as fast as a */
  ratio: number;
  pairsAtLeast1: number;
  pairs: number;
  /** median ≥ 1 and at least 3/4 of the pairs ≥ 1 (issue 16's "≥ 1.0×": 6 of 8) */
  meets: boolean;
  perPair: Pair[];
}

const r3 = (v: number) => Number(v.toFixed(3));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

export function summarise(perPair: Pair[]): PairSummary {
  const ratios = perPair.map((p) => p.aMs / p.bMs);
  const ratio = median(ratios);
  const pairsAtLeast1 = ratios.filter((x) => x >= 1).length;
  return {
    aMs: r3(median(perPair.map((p) => p.aMs))), bMs: r3(median(perPair.map((p) => p.bMs))), ratio: r3(ratio), pairsAtLeast1, pairs: perPair.length,
    meets: ratio >= 1 && pairsAtLeast1 >= Math.ceil(0.75 * perPair.length), perPair: perPair.map((p) => ({ aMs: r3(p.aMs), bMs: r3(p.bMs) })),
  };
}

async function inTurn(i: number, a: () => Promise<number>, b: () => Promise<number>): Promise<Pair> {
  if (i % 2 === 0) {
    const aMs = await a();
    return { aMs, bMs: await b() };
  }
  const bMs = await b();
  return { aMs: await a(), bMs };
}

/** progress: one line per pair (a run on this machine can take minutes per figure) */
export type PairLog = (what: string, i: number, p: Pair) => void;

export async function pairedPrefill(a: TimedSide, b: TimedSide, n: number, pairs: number, log?: PairLog): Promise<PairSummary> {
  await a.prefill(n); // warm-up: allocations, kernel selection
  await b.prefill(n);
  const out: Pair[] = [];
  for (let i = 0; i < pairs; i++) {
    out.push(await inTurn(i, () => a.prefill(n), () => b.prefill(n)));
    log?.(`prefill ${n}`, i, out[i]!);
  }
  return summarise(out);
}

/** both conversations grow by pairs × steps tokens from ctx + 1 */
export async function pairedDecode(a: TimedSide, b: TimedSide, ctx: number, pairs: number, steps: number, log?: PairLog): Promise<PairSummary> {
  await a.open(ctx);
  await b.open(ctx);
  const out: Pair[] = [];
  for (let i = 0; i < pairs; i++) {
    out.push(await inTurn(i, () => a.tokens(steps), () => b.tokens(steps)));
    log?.(`decode @${ctx}`, i, out[i]!);
  }
  return summarise(out);
}

/** one of our decode runners as a timed side: prompts of constant embeddings, tokens fed the way the app feeds them */
export function runnerSide(make: () => DecodeRunner, hidden: number): TimedSide {
  let r: DecodeRunner | null = null;
  return {
    async prefill(n) {
      r = make();
      const seq = new Float32Array(n * hidden).fill(0.01);
      const t0 = performance.now();
      await r.prefill(seq, n);
      r.lastLogits();
      return performance.now() - t0;
    },
    async open(ctx) {
      r = make();
      await r.prefill(new Float32Array(ctx * hidden).fill(0.01), ctx);
      await r.next(5);
    },
    async tokens(k) {
      const t0 = performance.now();
      for (let s = 0; s < k; s++) {
        await r!.next(5 + (s % 7));
        r!.lastLogits(); // the sampler's read of one row of logits, as in the app
      }
      return (performance.now() - t0) / k;
    },
  };
}
