import { describe, expect, it } from 'vitest';
import { upsampleBilinear } from './segmentation.js';

/**
 * SAM's postprocess_masks resizes logits with torch.nn.functional.interpolate(mode="bilinear", align_corners=False);
 * the expected values below are torch 1.13's output for these inputs (the SAM fidelity check compares whole masks).
 */
describe('upsampleBilinear (torch bilinear, align_corners=False)', () => {
  it('2×2 → 4×4 and 3×3 → 7×7 as torch computes them', () => {
    expect(Array.from(upsampleBilinear([0, 1, 2, 3], 2, 4))).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
    const got = Array.from(upsampleBilinear([0, 1, 2, 3, 4, 5, 6, 7, 8], 3, 7)).slice(0, 14);
    const torch = [0, 0.1428571492433548, 0.5714285969734192, 1, 1.4285714626312256, 1.8571429252624512, 2, 0.4285714626312256, 0.5714285969734192, 1, 1.4285714626312256, 1.8571429252624512, 2.2857143878936768, 2.4285714626312256];
    got.forEach((v, i) => expect(v).toBeCloseTo(torch[i]!, 6));
  });
  it('align_corners=True or nearest would give other values (the check can fail)', () => {
    // align_corners=True maps the corners onto each other: (0,1) would be 1/3, not 0.25
    expect(upsampleBilinear([0, 1, 2, 3], 2, 4)[1]).not.toBeCloseTo(1 / 3, 3);
    // same size: the grid itself
    expect(Array.from(upsampleBilinear([5, -1, 2, 0.5], 2, 2))).toEqual([5, -1, 2, 0.5]);
  });
});
