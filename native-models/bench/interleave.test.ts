import { describe, expect, it } from 'vitest';
import { median, summarise } from './interleave.js';

describe('interleaved pairs (issue 16: "≥ 1.0×" = median ≥ 1 and at least 6 of 8 pairs)', () => {
  const pair = (aMs: number, bMs: number) => ({ aMs, bMs });

  it('ratio is the median over the pairs of a ms / b ms, not the ratio of the medians', () => {
    const s = summarise([pair(10, 5), pair(10, 20), pair(30, 10)]);
    expect(s.ratio).toBe(2); // per pair 2, 0.5, 3 → median 2 (the medians' ratio would be 10 / 10 = 1)
    expect(s.aMs).toBe(10);
    expect(s.bMs).toBe(10);
    expect(s.pairsAtLeast1).toBe(2);
  });

  it('meets needs both the median and 6 of 8 pairs at ≥ 1', () => {
    const six = [...Array(6).fill(pair(11, 10)), pair(5, 10), pair(5, 10)];
    expect(summarise(six).meets).toBe(true);
    const five = [...Array(5).fill(pair(11, 10)), pair(5, 10), pair(5, 10), pair(5, 10)];
    expect(summarise(five).ratio).toBeGreaterThan(1);
    expect(summarise(five).meets).toBe(false);
    expect(summarise(Array(8).fill(pair(9, 10))).meets).toBe(false);
  });

  it('median of an even count averages the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
