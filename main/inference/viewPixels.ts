import { VantageError } from '../contract/errors.js';
import type { ViewInput } from './protocol.js';

/**
 * Views → pixel_values [V, 3, S, S]: each S×S RGB view normalised with the stage's mean and std (the vision stage
 * uses the manifest's view statistics, the grounding stage its own).
 */
export function normalizeViews(views: ViewInput[], S: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const plane = S * S;
  const out = new Float32Array(views.length * 3 * plane);
  views.forEach((v, n) => {
    if (v.rgb.length !== plane * 3) {
      throw new VantageError('BAD_INPUT', `view ${n} has ${v.rgb.length} bytes; this pack needs ${S}×${S} RGB views (${plane * 3} bytes)`);
    }
    const base = n * 3 * plane;
    // Float32 at every step, as the reference computes it (u8/255, − mean, ÷ std, each rounded to float32):
    // each operation on float32 operands done in float64 and rounded once is exactly the float32 result, so
    // pixel_values are bit-identical to PyTorch's (reference_pipeline.json holds their sha256).
    for (let c = 0; c < 3; c++) {
      const m = Math.fround(mean[c]!), s = Math.fround(std[c]!);
      const o = base + c * plane;
      for (let i = 0; i < plane; i++) out[o + i] = Math.fround(Math.fround(v.rgb[i * 3 + c]! / 255) - m) / s;
    }
  });
  return out;
}
