"""int4 weight-only block quantisation in onnxruntime's com.microsoft MatMulNBits layout.

For a linear layer y = x W^T with W [N out, K in]: K is cut into blocks of 32; each (row n, block b) gets
  scale = (max - min) / 15, zero point zp = round(-min / scale) in 0..15, q = clamp(round(w / scale) + zp, 0, 15)
and dequantises as (q - zp) * scale. Layout (ORT contrib op spec):
  B           uint8 [N, n_blocks, 16]     two codes per byte, element 2j in the low nibble, 2j+1 in the high one
  scales      float [N * n_blocks]        row-major (n, b)
  zero_points uint8 [N * ceil(n_blocks/2)]  per row n, packed the same way (low nibble = even block)
K that is not a multiple of 32 is zero-padded inside the last block (the op handles the ragged block itself).

Pack options (issue 16: fewer bytes read per token on the CPU): `block` 64 (or 128) halves the scales and zero points;
`symmetric` drops the zero points (the op then takes 8 for every block) with llama.cpp's Q4_0 rule: the value of
largest magnitude m in a block maps to code 0, scale = m / -8, q = clamp(round(w / scale) + 8, 0, 15). Block 64
symmetric reads 4.5 bits a weight with fp32 scales, as Q4_0 does with fp16 scales at block 32.
"""
import numpy as np

BLOCK = 32


def quantise(w, block=BLOCK, symmetric=False):
    """(packed, scales, packed zero points or None when symmetric)"""
    w = np.asarray(w, dtype=np.float32)
    n, k = w.shape
    nb = -(-k // block)
    padded = np.zeros((n, nb * block), dtype=np.float32)
    padded[:, :k] = w
    blocks = padded.reshape(n, nb, block)
    if symmetric:
        idx = np.abs(blocks).argmax(axis=2)[:, :, None]
        scale = (np.take_along_axis(blocks, idx, axis=2)[:, :, 0] / -8.0).astype(np.float32)
        scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
        q = np.clip(np.round(blocks / scale[:, :, None]) + 8, 0, 15).astype(np.uint8)
        return (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8), scale.reshape(-1), None
    lo = np.minimum(blocks.min(axis=2), 0.0)  # keep 0 representable exactly (padding, sparse rows)
    hi = np.maximum(blocks.max(axis=2), 0.0)
    scale = (hi - lo) / 15.0
    scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
    zp = np.clip(np.round(-lo / scale), 0, 15).astype(np.uint8)
    q = np.clip(np.round(blocks / scale[:, :, None]) + zp[:, :, None], 0, 15).astype(np.uint8)
    packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)  # [N, nb, 16]
    zpp = np.zeros((n, -(-nb // 2) * 2), dtype=np.uint8)
    zpp[:, :nb] = zp
    zp_packed = (zpp[:, 0::2] | (zpp[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scale.reshape(-1), zp_packed


def dequantise(packed, scales, zp_packed, k, block=BLOCK):
    """The exact inverse the op computes: used by tests and by the fp32 'dequantised' reference."""
    n, nb, _ = packed.shape
    q = np.empty((n, nb, block), dtype=np.float32)
    q[:, :, 0::2] = packed & 0x0F
    q[:, :, 1::2] = packed >> 4
    if zp_packed is None:  # symmetric: the op's default zero point, 8
        return ((q - 8) * scales.reshape(n, nb)[:, :, None]).reshape(n, nb * block)[:, :k]
    zpp = zp_packed.reshape(n, -1)
    zp = np.empty((n, zpp.shape[1] * 2), dtype=np.float32)
    zp[:, 0::2] = zpp & 0x0F
    zp[:, 1::2] = zpp >> 4
    zp = zp[:, :nb]
    w = (q - zp[:, :, None]) * scales.reshape(n, nb)[:, :, None]
    return w.reshape(n, nb * block)[:, :k]


def random_packed(n, k, rng, block=BLOCK, scale=0.02, symmetric=False):
    """Random int4 weights straight in packed form (speed runs: no fp32 matrix is ever materialised)."""
    nb = -(-k // block)
    packed = rng.integers(0, 256, size=(n, nb, block // 2), dtype=np.uint8)
    scales = (rng.random(n * nb, dtype=np.float32) * scale / 7.5 + scale / 15).astype(np.float32)
    zp_packed = None if symmetric else np.full(n * -(-nb // 2), 0x88, dtype=np.uint8)
    return packed, scales, zp_packed
