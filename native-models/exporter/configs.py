"""Model configurations the exporter knows, and the size arithmetic behind --dry-run and the benchmark's limits.

Names follow native-models/testpack/model.py's CONFIG (the reference architecture) plus the few fields a bigger
model needs. `tiny` IS the test pack's architecture (so its trained weights load through the HF-layout loader);
`small` is a CPU-sized speed/parity config; `7b-class` is the product target (LLaVA-1.5-class decoder).
"""

CONFIGS = {
    "tiny": {
        "view_size": 64, "patch": 8, "merge": 2, "tokens": 16, "vision_width": 48,
        "hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "head_dim": 16, "intermediate": 128, "vocab": 512,
        "rope_theta": 10000.0, "rms_eps": 1e-5, "g_channels": 32, "g_grid": 16, "mask_size": 64, "max_context": 512,
        "vision": "testpack", "grounding": "testpack",
    },
    "small": {
        "view_size": 64, "patch": 8, "merge": 2, "tokens": 16, "vision_width": 96,
        "hidden": 512, "layers": 8, "heads": 8, "kv_heads": 2, "head_dim": 64, "intermediate": 1536, "vocab": 4096,
        "rope_theta": 10000.0, "rms_eps": 1e-5, "g_channels": 64, "g_grid": 16, "mask_size": 64, "max_context": 4096,
        "vision": "testpack", "grounding": "testpack",
    },
    # LLaMA-2-7B / Vicuna-7B geometry as used by LLaVA-1.5 and GeoChat (MHA 32/32 there; the product target uses
    # GQA 32/8 to shrink the KV cache 4x, so a real LLaVA-1.5 checkpoint loads with kv_heads = 32: see README).
    "7b-class": {
        "view_size": 448, "patch": 14, "merge": 2, "tokens": 256, "vision_width": 1024, "vision_layers": 24,
        "vision_heads": 16, "vision_mlp": 4096,
        "hidden": 4096, "layers": 32, "heads": 32, "kv_heads": 8, "head_dim": 128, "intermediate": 11008,
        "vocab": 32000, "rope_theta": 10000.0, "rms_eps": 1e-5, "g_channels": 256, "g_grid": 64, "mask_size": 256,
        "max_context": 4096, "g_width": 768, "g_layers": 12, "g_heads": 12, "g_patch": 16,
        # the grounding stage's own input side (manifest grounding.size): SAM's 1024 px, as a released SAM pack runs
        "g_size": 1024,
        "vision": "vit-l14", "grounding": "sam-vit-b",
    },
}
# the laptop target for 4-6 GB GPUs: same image stages, a 3B-class GQA decoder
CONFIGS["3b-class"] = {**CONFIGS["7b-class"], "hidden": 3072, "layers": 26, "heads": 24, "kv_heads": 8,
                       "intermediate": 8192}
# TinyLlama-1.1B decoder geometry (issue 16's CPU comparison with llama.cpp): small test-pack image stages, so the
# pack builds in a minute; max_context 4096 (TinyLlama's own is 2048) so the benchmark can decode at 2k + steps
CONFIGS["tinyllama"] = {**CONFIGS["small"], "hidden": 2048, "layers": 22, "heads": 32, "kv_heads": 4, "head_dim": 64,
                        "intermediate": 5632, "vocab": 32000, "max_context": 4096}

BLOCK = 32  # MatMulNBits block size along K


def linear_shapes(c):
    """(name, N out, K in) of every decoder linear layer in one block, in graph order."""
    d, hd, i = c["hidden"], c["head_dim"], c["intermediate"]
    return [("q", c["heads"] * hd, d), ("k", c["kv_heads"] * hd, d), ("v", c["kv_heads"] * hd, d),
            ("o", d, c["heads"] * hd), ("gate", i, d), ("up", i, d), ("down", d, i)]


def int4_bytes(n, k, zero_points=True, scale_bytes=4, block=BLOCK):
    """Bytes MatMulNBits reads for one [N,K] weight: packed nibbles + one scale (+ packed zero point) per block."""
    nb = -(-k // block)
    return n * nb * (block // 2) + n * nb * scale_bytes + (n * -(-nb // 2) if zero_points else 0)


def sizes(c, quant="int4", scale_bytes=2, head_bytes=2, zero_points=True, block=BLOCK):
    """Parameter counts and bytes read per decoded token (weights) and per context token (KV cache).

    scale_bytes / head_bytes: 2 for an fp16 GPU pack, 4 for the fp32 CPU packs. Embedding: one row is read per
    token, counted for completeness. KV cache at context P: 2 (k,v) x layers x kv_heads x head_dim x P x 2 bytes
    (fp16 cache on GPU).
    """
    lin = linear_shapes(c)
    layer_params = sum(n * k for _, n, k in lin) + 2 * c["hidden"]
    params = c["layers"] * layer_params + 2 * c["vocab"] * c["hidden"] + c["hidden"]
    if quant == "int4":
        layer_bytes = sum(int4_bytes(n, k, zero_points, scale_bytes, block) for _, n, k in lin)
    else:
        layer_bytes = sum(n * k for _, n, k in lin) * head_bytes
    head = c["vocab"] * c["hidden"] * head_bytes
    weights_per_token = c["layers"] * (layer_bytes + 2 * c["hidden"] * head_bytes) + head + 2 * c["hidden"] * head_bytes
    kv_per_ctx_token = 2 * c["layers"] * c["kv_heads"] * c["head_dim"] * 2
    return {
        "decoderParams": params,
        "weightBytesReadPerToken": weights_per_token,
        "kvBytesPerContextToken": kv_per_ctx_token,
        "decoderFileBytes": c["layers"] * layer_bytes + 2 * head + c["layers"] * 2 * c["hidden"] * head_bytes,
    }


def vision_params(c):
    """Rough parameter counts of the ViT-L/14-class vision tower and SAM ViT-B-class encoder (7b-class only)."""
    if c.get("vision") != "vit-l14":
        return None
    w, m = c["vision_width"], c["vision_mlp"]
    vit = c["vision_layers"] * (4 * w * w + 2 * w * m) + 3 * c["patch"] ** 2 * w
    proj = 4 * w * c["hidden"] + c["hidden"] * c["hidden"]
    gw = c["g_width"]
    sam = c["g_layers"] * (4 * gw * gw + 8 * gw * gw) + 3 * c["g_patch"] ** 2 * gw + gw * c["g_channels"] * 10
    return {"visionParams": vit + proj, "groundingParams": sam}


def dry_run(c, name):
    s = sizes(c)
    lines = [f"config {name}: hidden {c['hidden']}, {c['layers']} layers, {c['heads']} heads / {c['kv_heads']} kv,"
             f" head dim {c['head_dim']}, SwiGLU {c['intermediate']}, vocab {c['vocab']}"]
    lines.append(f"  decoder parameters       {s['decoderParams'] / 1e9:.3f} G")
    lines.append(f"  int4 decoder file        {s['decoderFileBytes'] / 2**30:.2f} GiB (int4 linears, block {BLOCK},"
                 f" fp16 scales + packed zero points, fp16 embed + head)")
    lines.append(f"  weight bytes / token     {s['weightBytesReadPerToken'] / 2**30:.3f} GiB")
    lines.append(f"  KV cache / context token {s['kvBytesPerContextToken'] / 1024:.0f} KiB (fp16)")
    for ctx in (128, 2048, c["max_context"]):
        per = s["weightBytesReadPerToken"] + ctx * s["kvBytesPerContextToken"]
        lines.append(f"  bytes read / token @ {ctx:>4}: {per / 2**30:.3f} GiB -> at 1 TB/s: {1e12 / per:.0f} tok/s,"
                     f" at 300 GB/s (laptop): {3e11 / per:.0f} tok/s")
    v = vision_params(c)
    vram = s["decoderFileBytes"] + c["max_context"] * s["kvBytesPerContextToken"]
    if v:
        vram += (v["visionParams"] + v["groundingParams"]) * 2
        lines.append(f"  vision (ViT-L/14 @ {c['view_size']}, {c['tokens']} tokens/view) {v['visionParams'] / 1e6:.0f} M"
                     f" params; grounding (SAM ViT-B-class) {v['groundingParams'] / 1e6:.0f} M params (fp16)")
    # activations + ORT arena slack: a measured figure replaces this on the GPU machine
    vram += 600 * 2**20
    lines.append(f"  expected VRAM            {vram / 2**30:.2f} GiB (weights + full KV cache + ~600 MiB activations)")
    return "\n".join(lines), {**s, "expectedVramBytes": vram, **(v or {})}
