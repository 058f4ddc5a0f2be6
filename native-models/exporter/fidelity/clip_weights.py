"""Seeded numpy weights for the CLIP-tower fidelity checks (shared by the fixture maker, which feeds them to the
upstream code, and the CI check, which feeds them to ours). numpy only: torch's RNG differs between the pip and
Debian builds, numpy's PCG64 streams do not.

Shapes are LLaVA-1.5's tower, CLIP ViT-L/14-336 (width 1024, 16 heads, MLP 4096, patch 14, 336 px, quick-GELU,
eps 1e-5), `depth` encoder layers (24 in the real model; reduced in CI), and the mlp2x_gelu projector into a
LLaMA-7B (4096). Scales follow transformers' CLIPPreTrainedModel._init_weights (initializer_factor 1, range 0.02;
q/k/v/fc2 scaled by (2 * 24)^-0.5 as for the real 24-layer tower) and torch.nn.Linear's default init for the
projector. HF initialises LayerNorms to 1/0 and linear biases to 0; here they get small random offsets
(1 + 0.1 N, 0.05 N, biases 0.02 N) so that every tensor takes part and a misplaced one shows.
"""
import hashlib

import numpy as np

CLIP_L336 = {"width": 1024, "heads": 16, "mlp": 4096, "patch": 14, "image_size": 336, "real_depth": 24, "llm": 4096}
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


def clip_l336_weights(depth, seed=20241128):
    """-> ({HF CLIPVisionModel name: float32 array}, {LLaVA name model.mm_projector.*: float32 array})."""
    c = CLIP_L336
    rng = np.random.default_rng(seed)
    w, m, p, g, L = c["width"], c["mlp"], c["patch"], c["image_size"] // c["patch"], c["real_depth"]
    n = lambda *s, sd: (rng.standard_normal(s) * sd).astype(np.float32)  # noqa: E731
    ln = lambda: (1 + n(w, sd=0.1), n(w, sd=0.05))  # noqa: E731
    t = {"vision_model.embeddings.class_embedding": n(w, sd=w ** -0.5),
         "vision_model.embeddings.patch_embedding.weight": n(w, 3, p, p, sd=0.02),
         "vision_model.embeddings.position_embedding.weight": n(g * g + 1, w, sd=0.02)}
    t["vision_model.pre_layrnorm.weight"], t["vision_model.pre_layrnorm.bias"] = ln()
    in_std, out_std, fc1_std = w ** -0.5 * (2 * L) ** -0.5, w ** -0.5, (2 * w) ** -0.5
    for i in range(depth):
        q = f"vision_model.encoder.layers.{i}."
        for lin, o, k, sd in (("self_attn.q_proj", w, w, in_std), ("self_attn.k_proj", w, w, in_std),
                              ("self_attn.v_proj", w, w, in_std), ("self_attn.out_proj", w, w, out_std),
                              ("mlp.fc1", m, w, fc1_std), ("mlp.fc2", w, m, in_std)):
            t[q + lin + ".weight"], t[q + lin + ".bias"] = n(o, k, sd=sd), n(o, sd=0.02)
        t[q + "layer_norm1.weight"], t[q + "layer_norm1.bias"] = ln()
        t[q + "layer_norm2.weight"], t[q + "layer_norm2.bias"] = ln()
    t["vision_model.post_layernorm.weight"], t["vision_model.post_layernorm.bias"] = ln()
    u = lambda *s, fan: rng.uniform(-fan ** -0.5, fan ** -0.5, s).astype(np.float32)  # noqa: E731
    D = c["llm"]
    proj = {"model.mm_projector.0.weight": u(D, w, fan=w), "model.mm_projector.0.bias": u(D, fan=w),
            "model.mm_projector.2.weight": u(D, D, fan=D), "model.mm_projector.2.bias": u(D, fan=D)}
    return t, proj


def sha256_tensors(*dicts):
    h = hashlib.sha256()
    for d in dicts:
        for k in sorted(d):
            h.update(k.encode())
            h.update(np.ascontiguousarray(d[k], "<f4").tobytes())
    return h.hexdigest()


def pixel_values(views, size, seed):
    """A seeded 'image' in 0..1 (blocky 8-px structure + noise, so neighbouring patches differ but correlate),
    normalised with CLIP's mean/std -> float32 [views, 3, size, size]."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 1, (views, 3, -(-size // 8), -(-size // 8)))
    img = np.repeat(np.repeat(coarse, 8, axis=2), 8, axis=3)[:, :, :size, :size]
    img = np.clip(0.7 * img + 0.3 * rng.uniform(0, 1, img.shape), 0, 1)
    x = (img - np.array(MEAN)[None, :, None, None]) / np.array(STD)[None, :, None, None]
    return x.astype(np.float32)


def projection(dim, k, seed):
    """Seeded random directions [dim, k] (unit-variance outputs for unit-variance inputs)."""
    return (np.random.default_rng(seed).standard_normal((dim, k)) / np.sqrt(dim)).astype(np.float32)
