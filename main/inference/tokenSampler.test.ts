import { describe, expect, it } from 'vitest';
import { TokenSampler } from './tokenSampler.js';

const logits = Float32Array.from([0.1, 2.0, 1.9, -3, 0.5]);

describe('TokenSampler', () => {
  it('is greedy at temperature 0', () => {
    expect(new TokenSampler({ temperature: 0, topP: 1, seed: 1 }).next(logits, 0, 5)).toBe(1);
  });

  it('reads the row at the given offset', () => {
    const two = Float32Array.from([9, 0, 0, 0, 0, ...logits]);
    expect(new TokenSampler({ temperature: 0, topP: 1, seed: 1 }).next(two, 5, 5)).toBe(1);
  });

  it('gives the same draws for the same seed and different ones for another seed', () => {
    const draw = (seed: number) => {
      const s = new TokenSampler({ temperature: 2, topP: 1, seed });
      return Array.from({ length: 40 }, () => s.next(logits, 0, 5));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('keeps only the nucleus: with a small topP only the most likely tokens come out', () => {
    const s = new TokenSampler({ temperature: 1, topP: 0.5, seed: 11 });
    const seen = new Set(Array.from({ length: 200 }, () => s.next(logits, 0, 5)));
    expect([...seen].every((i) => i === 1 || i === 2)).toBe(true);
    expect(seen.size).toBe(2);
  });
});
