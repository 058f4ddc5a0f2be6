import { describe, expect, it } from 'vitest';
import { bytesPerToken } from './byteModel.js';

// The figures are native-models/exporter/configs.py `sizes` for the same configs (python3 -c "…sizes(CONFIGS[n])"),
// so the benchmark's limit and the exporter's --dry-run agree byte for byte.
const sevenB = { hidden: 4096, layers: 32, heads: 32, kvHeads: 8, headDim: 128, vocab: 32000, intermediate: 11008 };
const small = { hidden: 512, layers: 8, heads: 8, kvHeads: 2, headDim: 64, vocab: 4096, intermediate: 1536 };

describe('bytes read per decoded token', () => {
  it('7b-class int4 (fp16 scales, head, cache) matches the exporter dry-run', () => {
    const b = bytesPerToken(sevenB, { linears: 'int4', scaleBytes: 2, denseBytes: 2, kvBytes: 2 }, 0);
    expect(b.weights).toBe(3541057536);
    expect(bytesPerToken(sevenB, { linears: 'int4', scaleBytes: 2, denseBytes: 2, kvBytes: 2 }, 2048).kv).toBe(2048 * 131072);
  });

  it('small int4 CPU pack (fp32 scales / head) matches the exporter', () => {
    expect(bytesPerToken(small, { linears: 'int4', scaleBytes: 4, denseBytes: 4, kvBytes: 4 }, 0).weights).toBe(23875584);
  });

  it('TinyLlama shapes: the default layout and the Q4_0-sized pack option (block 64, no zero points) match the exporter', () => {
    const tiny = { hidden: 2048, layers: 22, heads: 32, kvHeads: 4, headDim: 64, vocab: 32000, intermediate: 5632 };
    const cpu = { linears: 'int4', scaleBytes: 4, denseBytes: 4, kvBytes: 4 } as const;
    expect(bytesPerToken(tiny, cpu, 0).weights).toBe(883212288);
    expect(bytesPerToken(tiny, { ...cpu, blockSize: 64, zeroPoints: false }, 0).weights).toBe(807518208);
  });

  it('int4 reads about a quarter of the fp16 bytes of the linear layers', () => {
    const int4 = bytesPerToken({ ...sevenB, vocab: 0 }, { linears: 'int4', scaleBytes: 2, denseBytes: 2, kvBytes: 2 }, 0).weights;
    const fp16 = bytesPerToken({ ...sevenB, vocab: 0 }, { linears: 'fp16', scaleBytes: 2, denseBytes: 2, kvBytes: 2 }, 0).weights;
    expect(int4 / fp16).toBeGreaterThan(0.28);
    expect(int4 / fp16).toBeLessThan(0.33);
  });
});
