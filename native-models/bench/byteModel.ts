/**
 * Bytes one decode step must read, the denominator of the decode limit (issue 7's formula): int4 linear weights
 * with their per-block scales (and packed zero points), the LM head and final/layer norms as stored, one embedding
 * row, and the KV cache at the current context. Mirrors native-models/exporter/configs.py `sizes`.
 */
export interface LlmShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
}

export interface ByteLayout {
  /** 'int4' = MatMulNBits (block 32 with packed zero points unless said); 'fp32'/'fp16' = dense linears */
  linears: 'int4' | 'fp32' | 'fp16';
  scaleBytes: number;
  /** MatMulNBits block size along K (default 32) */
  blockSize?: number;
  /** false: a symmetric pack without zero points (default true) */
  zeroPoints?: boolean;
  /** LM head / embedding / norm element size */
  denseBytes: number;
  /** KV cache element size (4 when the graph's cache tensors are float32) */
  kvBytes: number;
}

export function linearShapes(c: LlmShape): [number, number][] {
  const d = c.hidden, hd = c.headDim;
  return [[c.heads * hd, d], [c.kvHeads * hd, d], [c.kvHeads * hd, d], [d, c.heads * hd]];
}

export function bytesPerToken(c: LlmShape & { intermediate: number }, layout: ByteLayout, context: number) {
  const lin: [number, number][] = [...linearShapes(c), [c.intermediate, c.hidden], [c.intermediate, c.hidden], [c.hidden, c.intermediate]];
  const linearBytes = lin.reduce((sum, [n, k]) => {
    if (layout.linears !== 'int4') return sum + n * k * (layout.linears === 'fp16' ? 2 : 4);
    const block = layout.blockSize ?? 32;
    const nb = Math.ceil(k / block);
    return sum + n * nb * (block / 2) + n * nb * layout.scaleBytes + (layout.zeroPoints === false ? 0 : n * Math.ceil(nb / 2));
  }, 0);
  const weights = c.layers * (linearBytes + 2 * c.hidden * layout.denseBytes) + (c.vocab + 2) * c.hidden * layout.denseBytes;
  const kv = 2 * c.layers * c.kvHeads * c.headDim * layout.kvBytes * context;
  return { weights, kv, total: weights + kv };
}
