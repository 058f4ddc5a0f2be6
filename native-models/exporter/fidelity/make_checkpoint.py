#!/usr/bin/python3
"""Seeded LLaMA checkpoints in Hugging Face layout for the decoder fidelity checks (issue 14, item 1).

  python3 make_checkpoint.py --config tiny --out DIR [--transform NAME] [--check]

numpy only (Debian's python3 runs it in CI): the weights come from numpy's PCG64 Generator, not torch's RNG (which
differs between the pip and Debian builds), and are written as a float32 `model.safetensors` + `config.json`
(LlamaConfig field names). `--check` compares the sha256 of model.safetensors with the value recorded in
checkpoints.json beside this script (exit 3 on a mismatch; `--record` writes it).

Initialisation as LLaMA's (normal, std 0.02, for every linear layer, the embedding and the LM head; RMSNorm
weights 1 + N(0, 0.05): trained norms are not exactly 1, and a norm weight wired to the wrong place must show).
`tiny` keeps the per-unit statistics of the 4096-wide configs: its linear layers and LM head get std
0.02·sqrt(4096 / hidden), so activations and logits have the same O(1) spread (std 0.02 at width 64 gives logits
~0.1 apart: a flat, hollow comparison); the embedding keeps std 0.02 at every width, so the first RMSNorm sees the
same mean square (~4e-4) as at 7B and a wrong epsilon matters as much as it would there.

--transform makes a deliberately wrong copy for the negative tests (the exporter must then disagree with the
upstream implementations, which always run on the untransformed checkpoint):
  permute-qk        q/k rows in Meta's interleaved RoPE layout (llama.cpp / original LLaMA) instead of HF's
                    rotate-half layout, i.e. a converter that forgot (or doubled) the HF<->Meta permutation
  swap-rope-halves  the two rotary halves of every q/k head exchanged (a rotation of the wrong sign)
  rope-theta=X      config rope_theta X (e.g. 1e6: a LLaMA-3 / CodeLLaMA base on a LLaMA-2 model)
  rms-eps=X         config rms_norm_eps X (e.g. 1e-6: LLaMA-1's epsilon on a LLaMA-2 model)
  gqa-interleaved   query heads and o_proj columns reordered so that, read with the correct grouping (query head
                    i uses kv head i // (heads / kv_heads)), each original head i meets kv head i % kv_heads: the
                    effect of an exporter that repeats kv heads interleaved instead of consecutively
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RECORD = os.path.join(HERE, "checkpoints.json")

# LLaMA-2-7B / Vicuna-7B per-layer shapes at reduced depth, MHA and GQA; `tiny` is the CI fixture's (GQA 4/2)
CONFIGS = {
    "llama2-7b-2l": {"hidden": 4096, "layers": 2, "heads": 32, "kv_heads": 32, "intermediate": 11008,
                     "vocab": 32000, "max_pos": 4096, "seed": 7},
    "llama2-7b-gqa-2l": {"hidden": 4096, "layers": 2, "heads": 32, "kv_heads": 8, "intermediate": 11008,
                         "vocab": 32000, "max_pos": 4096, "seed": 8},
    "tiny": {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 176, "vocab": 512,
             "max_pos": 512, "seed": 14},
}
RMS_EPS = 1e-5  # LLaMA-2
ROPE_THETA = 10000.0


def hf_config(c):
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": c["hidden"],
        "num_hidden_layers": c["layers"], "num_attention_heads": c["heads"], "num_key_value_heads": c["kv_heads"],
        "intermediate_size": c["intermediate"], "vocab_size": c["vocab"], "max_position_embeddings": c["max_pos"],
        "rms_norm_eps": RMS_EPS, "rope_theta": ROPE_THETA, "hidden_act": "silu", "tie_word_embeddings": False,
        "attention_bias": False, "mlp_bias": False, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
        "initializer_range": 0.02,
    }


def tensors(c):
    """(name, array) in a fixed order: every draw comes from one seeded generator, so the bytes are reproducible."""
    rng = np.random.default_rng(c["seed"])
    d, h, kvh, ff, V = c["hidden"], c["heads"], c["kv_heads"], c["intermediate"], c["vocab"]
    hd = d // h
    std = np.float32(0.02 * np.sqrt(4096 / d))

    def lin(n, k):
        return rng.standard_normal((n, k), dtype=np.float32) * std

    def norm():
        return (1 + 0.05 * rng.standard_normal(d, dtype=np.float32)).astype(np.float32)

    out = [("model.embed_tokens.weight", rng.standard_normal((V, d), dtype=np.float32) * np.float32(0.02))]
    for i in range(c["layers"]):
        p = f"model.layers.{i}."
        out += [(p + "self_attn.q_proj.weight", lin(h * hd, d)), (p + "self_attn.k_proj.weight", lin(kvh * hd, d)),
                (p + "self_attn.v_proj.weight", lin(kvh * hd, d)), (p + "self_attn.o_proj.weight", lin(d, h * hd)),
                (p + "mlp.gate_proj.weight", lin(ff, d)), (p + "mlp.up_proj.weight", lin(ff, d)),
                (p + "mlp.down_proj.weight", lin(d, ff)),
                (p + "input_layernorm.weight", norm()), (p + "post_attention_layernorm.weight", norm())]
    out += [("model.norm.weight", norm()), ("lm_head.weight", lin(V, d))]
    return out


def meta_layout(w, n_head):
    """HF rotate-half rows -> Meta's interleaved pairs (the inverse of transformers' convert_llama_weights permute)."""
    n, k = w.shape
    return w.reshape(n_head, 2, n // n_head // 2, k).swapaxes(1, 2).reshape(n, k)


def swap_halves(w, n_head):
    n, k = w.shape
    r = w.reshape(n_head, 2, n // n_head // 2, k)
    return r[:, ::-1].reshape(n, k)


def transform(name, t, cfg, c):
    if name.startswith("rope-theta="):
        cfg["rope_theta"] = float(name.split("=", 1)[1])
    elif name.startswith("rms-eps="):
        cfg["rms_norm_eps"] = float(name.split("=", 1)[1])
    elif name in ("permute-qk", "swap-rope-halves"):
        f = meta_layout if name == "permute-qk" else swap_halves
        t = [(k, f(v, c["heads"] if ".q_proj." in k else c["kv_heads"]) if (".q_proj." in k or ".k_proj." in k) else v)
             for k, v in t]
    elif name == "gqa-interleaved":
        h, kvh = c["heads"], c["kv_heads"]
        rep, hd = h // kvh, c["hidden"] // h
        order = [0] * h  # new position (i % kvh) * rep + i // kvh holds original head i
        for i in range(h):
            order[(i % kvh) * rep + i // kvh] = i

        def heads_rows(w):
            return w.reshape(h, hd, -1)[order].reshape(w.shape)

        t = [(k, heads_rows(v) if ".q_proj." in k else heads_rows(v.T).T if ".o_proj." in k else v) for k, v in t]
    else:
        raise SystemExit(f"unknown --transform {name}")
    return t


def write_safetensors(path, items):
    header, off = {}, 0
    for k, a in items:
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        for chunk in [struct.pack("<Q", len(h)), h] + [np.ascontiguousarray(a, "<f4").tobytes() for _, a in items]:
            f.write(chunk)
            sha.update(chunk)
    return sha.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--transform", help="permute-qk | swap-rope-halves | rope-theta=X | rms-eps=X (negative tests)")
    ap.add_argument("--check", action="store_true", help="fail unless the sha256 equals the recorded one")
    ap.add_argument("--record", action="store_true", help="record the sha256 in checkpoints.json")
    a = ap.parse_args(argv)
    c = CONFIGS[a.config]
    os.makedirs(a.out, exist_ok=True)
    cfg = hf_config(c)
    t = tensors(c)
    if a.transform:
        t = transform(a.transform, t, cfg, c)
    sha = write_safetensors(os.path.join(a.out, "model.safetensors"), t)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    print(json.dumps({"config": a.config, "transform": a.transform, "sha256": sha}))
    rec = json.load(open(RECORD)) if os.path.exists(RECORD) else {}
    if a.record:
        if a.transform:
            raise SystemExit("--record is for the untransformed checkpoints")
        rec[a.config] = {"sha256": sha, "numpy": np.__version__, **c}
        with open(RECORD, "w") as f:
            json.dump(rec, f, indent=1)
            f.write("\n")
    if a.check and not a.transform and rec.get(a.config, {}).get("sha256") != sha:
        print(f"sha256 {sha} differs from the recorded {rec.get(a.config, {}).get('sha256')}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
