"""Seeded fake SAM checkpoints in the layout of the released `sam_vit_{b,l,h}_*.pth` files, for the SAM fidelity
check (sam_upstream_fixtures.py writes the expected side with facebookresearch/segment-anything; sam_export_ours.py
exports our stages from the same file; samFidelity.int.test.ts compares them).

The tensors come from numpy's PCG64 generator (`np.random.default_rng(seed)`), never torch's RNG (which differs
between the pip and Debian torch builds), drawn in the order of `spec` (the upstream model's state_dict names and
shapes, recorded in the fixture) and scaled like SAM's own initialisation:
  - Linear / Conv / ConvTranspose weights and their biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
    init (fan_in = shape[1] * prod(kernel), as torch computes it, ConvTranspose included);
  - norm weights 1 + N(0, 0.1), norm biases N(0, 0.1) (initialised 1 / 0 upstream; perturbed so a swapped or
    dropped norm is visible);
  - nn.Embedding tables (point / not-a-point / no-mask embeddings, IoU and mask tokens) N(0, 1), as nn.Embedding;
  - the prompt encoder's positional_encoding_gaussian_matrix N(0, 1) (SAM's scale 1.0);
  - pos_embed and the relative-position tables N(0, 0.02) (zeros at init upstream: a trained ViT's scale instead,
    so that a mis-resized or transposed table changes the result).
`content_sha256` hashes name, shape and little-endian float32 bytes of every tensor in order: independent of the
torch version that serialises the .pth (whose own sha256 is reported too).
Only numpy and torch (torch.save) are needed: it runs on CI's Debian python3-torch.
"""
import hashlib

import numpy as np

NORM_HINTS = ("norm", "neck.1.", "neck.3.", "output_upscaling.1.", "mask_downscaling.1.", "mask_downscaling.4.")
EMBEDDINGS = ("point_embeddings.", "not_a_point_embed.", "no_mask_embed.", "iou_token.", "mask_tokens.")


def _kind(name, shape, shapes):
    if name.endswith("positional_encoding_gaussian_matrix"):
        return ("normal", 1.0)
    if name.endswith(("pos_embed", "rel_pos_h", "rel_pos_w")):
        return ("normal", 0.02)
    if any(e in name for e in EMBEDDINGS):
        return ("normal", 1.0)
    stem, leaf = name.rsplit(".", 1)
    w = shapes.get(stem + ".weight")
    if len(shape) == 1 and w is not None and len(w) == 1:  # a norm's weight / bias (1-D weight beside it)
        if not any(h in name for h in NORM_HINTS):
            raise ValueError(f"unexpected 1-D weight {name}")
        return ("norm_weight", 0.1) if leaf == "weight" else ("normal", 0.1)
    if w is None or len(w) < 2:
        raise ValueError(f"no init rule for {name} {shape}")
    fan_in = int(w[1] * np.prod(w[2:])) if len(w) > 2 else int(w[1])
    return ("uniform", 1.0 / np.sqrt(fan_in))


def make_weights(spec, seed):
    """spec: [[name, [shape...]], ...] in state_dict order -> {name: float32 ndarray}"""
    rng = np.random.default_rng(seed)
    shapes = {n: tuple(s) for n, s in spec}
    out = {}
    for name, shape in spec:
        shape = tuple(shape)
        kind, scale = _kind(name, shape, shapes)
        if kind == "uniform":
            t = rng.uniform(-scale, scale, size=shape)
        elif kind == "norm_weight":
            t = 1.0 + rng.standard_normal(shape) * scale
        else:
            t = rng.standard_normal(shape) * scale
        out[name] = np.ascontiguousarray(t, dtype="<f4")
    return out


def content_sha256(weights):
    h = hashlib.sha256()
    for name, t in weights.items():
        h.update(name.encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(np.ascontiguousarray(t, dtype="<f4").tobytes())
    return h.hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_checkpoint(weights, path):
    """A plain state dict of fp32 tensors saved with torch.save: the released sam_vit_*.pth layout."""
    import torch

    torch.save({k: torch.from_numpy(v.copy()) for k, v in weights.items()}, path)
    return file_sha256(path)
