import { describe, expect, it } from 'vitest';
import { gpuSummary } from './modelStore.js';

describe('gpuSummary', () => {
  it('names why the GPU is idle without library file names', () => {
    const cases: [string | null, string][] = [
      ['CUDA provider library not installed (libonnxruntime_providers_cuda.so not found beside the onnxruntime binding)', 'GPU support not installed'],
      ['this onnxruntime-node build has no CUDA provider', 'not in this build'],
      ['no GPU adapter reported by the host (set VANTAGE_EP=webgpu to try it anyway)', 'no GPU found'],
      ['not selected (VANTAGE_EP=cpu)', 'off (another provider chosen)'],
      [null, 'not used'],
    ];
    for (const [reason, want] of cases) {
      const got = gpuSummary(reason);
      expect(got).toBe(want);
      expect(got).not.toMatch(/\.so|\.dll|onnxruntime|VANTAGE_EP/);
    }
  });
});
