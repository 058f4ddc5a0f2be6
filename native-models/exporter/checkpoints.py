"""Reading real checkpoints: Hugging Face LLaMA layout (safetensors, sharded or not, or pytorch_model*.bin).

Works for decoders whose tensors are named like transformers' LlamaForCausalLM — LLaMA-1/2, Vicuna, and the
language model inside LLaVA-1.5-style checkpoints such as GeoChat (their extra `model.mm_projector.*` and
`model.vision_tower.*` tensors are ignored here). HF already stores q/k in the rotate-half RoPE order that the
reference decoder uses, so no permutation is applied. safetensors is parsed directly (8-byte little-endian header
length, JSON header, raw little-endian data), so the `safetensors` package is not needed.
"""
import glob
import json
import os
import struct

import numpy as np

_DT = {"F32": np.float32, "F16": np.float16, "BF16": "bf16", "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path, keep=None):
    """keep: optional predicate on tensor names (only those are read; e.g. the vision tensors of a 7B file)."""
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        for name, meta in header.items():
            if name == "__metadata__" or (keep and not keep(name)):
                continue
            dt = _DT[meta["dtype"]]
            a, b = meta["data_offsets"]
            f.seek(base + a)
            raw = f.read(b - a)
            if dt == "bf16":  # bfloat16 = the top half of a float32
                arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=dt)
            out[name] = arr.reshape(meta["shape"])
    return out


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, off, blobs = {}, 0, []
    rev = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    for k in names:
        a = np.ascontiguousarray(tensors[k])
        raw = a.tobytes()
        header[k] = {"dtype": rev[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_checkpoint_dir(d, keep=None):
    """All tensors of an HF model folder (safetensors preferred; .bin via torch.load); keep: optional name filter."""
    files = sorted(glob.glob(os.path.join(d, "*.safetensors")))
    tensors = {}
    if files:
        for f in files:
            tensors.update(read_safetensors(f, keep))
        return tensors
    bins = sorted(glob.glob(os.path.join(d, "pytorch_model*.bin")))
    if not bins:
        raise SystemExit(f"no *.safetensors or pytorch_model*.bin in {d}")
    index = os.path.join(d, "pytorch_model.bin.index.json")
    if os.path.isfile(index):  # a sharded release (e.g. GeoChat-7B): exactly the shards its weight_map names
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        absent = [s for s in shards if not os.path.isfile(os.path.join(d, s))]
        if absent:
            raise SystemExit(f"{d}: shard(s) {', '.join(absent)} named by pytorch_model.bin.index.json are missing "
                             "(incomplete download?)")
        bins = [os.path.join(d, s) for s in shards]
    import torch  # only needed for the pickle layout

    for f in bins:
        for k, v in torch.load(f, map_location="cpu").items():
            if not keep or keep(k):
                tensors[k] = v.float().numpy()
    return tensors


def config_from_hf(d, base):
    """Overlays an HF config.json (LlamaConfig field names) on one of our configs."""
    with open(os.path.join(d, "config.json")) as f:
        hf = json.load(f)
    c = dict(base)
    c["hidden"] = hf["hidden_size"]
    c["layers"] = hf["num_hidden_layers"]
    c["heads"] = hf["num_attention_heads"]
    c["kv_heads"] = hf.get("num_key_value_heads", hf["num_attention_heads"])
    c["head_dim"] = hf.get("head_dim", hf["hidden_size"] // hf["num_attention_heads"])
    c["intermediate"] = hf["intermediate_size"]
    c["vocab"] = hf["vocab_size"]
    c["rms_eps"] = hf.get("rms_norm_eps", 1e-6)
    c["rope_theta"] = hf.get("rope_theta", 10000.0)
    if hf.get("rope_scaling"):
        raise SystemExit("rope_scaling checkpoints are not supported by the reference decoder")
    return c


def load_llama(d, c):
    """-> {'embed': [V,D], 'layers': [{q,k,v,o,gate,up,down: [out,in], in_norm, post_norm: [D]}], 'norm', 'lm_head'}"""
    t = read_checkpoint_dir(d)
    f32 = lambda k: np.asarray(t[k], dtype=np.float32)  # noqa: E731
    missing = [k for k in ("model.embed_tokens.weight", "model.norm.weight") if k not in t]
    if missing:
        raise SystemExit(f"{d} is not an HF LLaMA-layout checkpoint (missing {missing})")
    names = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
             "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}
    layers = []
    for i in range(c["layers"]):
        p = f"model.layers.{i}."
        layer = {short: f32(p + long + ".weight") for short, long in names.items()}
        layer["in_norm"] = f32(p + "input_layernorm.weight")
        layer["post_norm"] = f32(p + "post_attention_layernorm.weight")
        layers.append(layer)
    embed = f32("model.embed_tokens.weight")
    head = f32("lm_head.weight") if "lm_head.weight" in t else embed  # tied heads
    return {"embed": embed, "layers": layers, "norm": f32("model.norm.weight"), "lm_head": head}


def random_llama(c, rng):
    """fp32 random weights with LLaMA-like scales (only for configs small enough to hold in memory)."""
    d = c["hidden"]
    from configs import linear_shapes

    layers = []
    for _ in range(c["layers"]):
        layer = {name: (rng.standard_normal((n, k), dtype=np.float32) / np.sqrt(k)).astype(np.float32)
                 for name, n, k in linear_shapes(c)}
        layer["in_norm"] = np.ones(d, np.float32)
        layer["post_norm"] = np.ones(d, np.float32)
        layers.append(layer)
    return {"embed": rng.standard_normal((c["vocab"], d), dtype=np.float32) * 0.02, "layers": layers,
            "norm": np.ones(d, np.float32),
            "lm_head": (rng.standard_normal((c["vocab"], d), dtype=np.float32) / np.sqrt(d)).astype(np.float32)}


def sam_encoder_geometry(path):
    """ViT-B / L / H: the image encoder's width, depth, heads, window, global-attention blocks and neck channels of a
    segment_anything checkpoint (sam_vit_{b,l,h}_*.pth), read from its tensor shapes (configs.py names)."""
    import torch

    sd = torch.load(path, map_location="cpu")
    pre = "image_encoder."
    if pre + "patch_embed.proj.weight" not in sd:
        raise SystemExit(f"{path} has no image_encoder.* tensors (not a segment_anything checkpoint)")
    w, _, patch, _ = sd[pre + "patch_embed.proj.weight"].shape
    pos_grid = sd[pre + "pos_embed"].shape[1]
    depth = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith(pre + "blocks."))
    rel = [sd[f"{pre}blocks.{i}.attn.rel_pos_h"].shape for i in range(depth)]
    glob_ = [i for i, r in enumerate(rel) if r[0] == 2 * pos_grid - 1]  # global blocks span the whole grid
    local = [r[0] for i, r in enumerate(rel) if i not in glob_]
    return {"g_width": int(w), "g_patch": int(patch), "g_layers": depth, "g_heads": int(w) // int(rel[0][1]),
            "g_global": glob_, "g_window": (local[0] + 1) // 2 if local else 14,
            "g_channels": int(sd[pre + "neck.0.weight"].shape[0]),
            "g_size": int(pos_grid) * int(patch)}  # SAM's input side (1024 for the released checkpoints)
