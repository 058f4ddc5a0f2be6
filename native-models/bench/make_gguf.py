#!/usr/bin/env python3
"""Builds the llama.cpp side of `npm run bench:gpu` (issue 16): a Q4_0 GGUF with exactly the decoder shapes of the
pack being measured, made by llama.cpp's own converter (convert_hf_to_gguf.py + gguf-py, from the source bundled
in node-llama-cpp, cloned by native-models/llamacpp/ensure.mjs llamaCppSource()).

  PYTHON make_gguf.py --llama-src DIR --shape JSON --dense f32|f16 --work DIR --out FILE.gguf

Needs the converter's own requirements (torch, transformers, sentencepiece, numpy): llama.cpp's
requirements/requirements-convert_hf_to_gguf.txt. Steps:
  1. an HF LLaMA folder in --work: config.json, model.safetensors (random fp16 weights; speed only depends on
     shapes) and a SentencePiece tokenizer.model with the pack's vocabulary size: <unk> <s> </s>, the 256
     `<0xNN>` byte tokens llama.cpp's SPM vocabulary needs to load, then filler pieces;
  2. convert_hf_to_gguf.py's main() on it, with the converter's per-tensor type hook set so every decoder linear
     is written as Q4_0 by gguf-py's quantiser (the converter has no Q4_0 output type), and token embedding +
     output layer stay dense in the pack's own float type (`--dense`: our LM head is an fp32 / fp16 MatMul, not
     int4), norms F32 as always.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np


def write_safetensors(path, tensors):
    """Streams (name, shape, generator of fp16 arrays) to a safetensors file without holding the model."""
    header, offset = {}, 0
    for name, shape, _ in tensors:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _name, _shape, make in tensors:
            f.write(np.ascontiguousarray(make(), dtype=np.float16).tobytes())


def hf_folder(shape, work, seed=0):
    d, L, h, kvh, hd, ff, V = (shape[k] for k in ("hidden", "layers", "heads", "kvHeads", "headDim", "intermediate", "vocab"))
    os.makedirs(work, exist_ok=True)
    cfg = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": d, "num_hidden_layers": L,
        "num_attention_heads": h, "num_key_value_heads": kvh, "head_dim": hd, "intermediate_size": ff,
        "vocab_size": V, "max_position_embeddings": shape["maxContext"], "rms_norm_eps": shape.get("rmsEps", 1e-5),
        "rope_theta": shape.get("ropeTheta", 10000.0), "hidden_act": "silu", "tie_word_embeddings": False,
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16",
    }
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    rng = np.random.default_rng(seed)

    def rand(*s):
        return lambda: rng.standard_normal(s, dtype=np.float32) * 0.02

    def ones(n):
        return lambda: np.ones(n, np.float32)

    t = [("model.embed_tokens.weight", (V, d), rand(V, d))]
    for i in range(L):
        p = f"model.layers.{i}."
        t += [(p + "input_layernorm.weight", (d,), ones(d)),
              (p + "self_attn.q_proj.weight", (h * hd, d), rand(h * hd, d)),
              (p + "self_attn.k_proj.weight", (kvh * hd, d), rand(kvh * hd, d)),
              (p + "self_attn.v_proj.weight", (kvh * hd, d), rand(kvh * hd, d)),
              (p + "self_attn.o_proj.weight", (d, h * hd), rand(d, h * hd)),
              (p + "post_attention_layernorm.weight", (d,), ones(d)),
              (p + "mlp.gate_proj.weight", (ff, d), rand(ff, d)),
              (p + "mlp.up_proj.weight", (ff, d), rand(ff, d)),
              (p + "mlp.down_proj.weight", (d, ff), rand(d, ff))]
    t += [("model.norm.weight", (d,), ones(d)), ("lm_head.weight", (V, d), rand(V, d))]
    write_safetensors(os.path.join(work, "model.safetensors"), t)
    spm_tokenizer(os.path.join(work, "tokenizer.model"), V)
    with open(os.path.join(work, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                   "add_bos_token": True, "add_eos_token": False}, f)


def spm_tokenizer(path, vocab):
    """A SentencePiece BPE model proto of exactly `vocab` pieces with byte fallback (LLaMA's layout): the fidelity
    check's writer (exporter/fidelity/make_gguf.py)."""
    if vocab < 3 + 256 + 1:
        raise SystemExit(f"vocab {vocab} cannot hold <unk> <s> </s> and the 256 byte tokens")
    import importlib.util
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exporter", "fidelity", "make_gguf.py")
    spec = importlib.util.spec_from_file_location("fidelity_make_gguf", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.spm_tokenizer(path, vocab)


def convert(llama_src, work, out, dense):
    sys.path.insert(0, os.path.join(llama_src, "gguf-py"))
    sys.path.insert(0, llama_src)
    import gguf
    import convert_hf_to_gguf as cv
    from conversion import base

    Q = gguf.GGMLQuantizationType
    dense_t = Q.F32 if dense == "f32" else Q.F16

    def force(self, name, new_name, bid, n_dims):  # the converter's own per-tensor type hook
        if n_dims < 2:
            return Q.F32
        if new_name in ("token_embd.weight", "output.weight"):
            return dense_t
        return Q.Q4_0

    base.ModelBase.tensor_force_quant = force
    add_file_type = gguf.GGUFWriter.add_file_type
    gguf.GGUFWriter.add_file_type = lambda self, _ft: add_file_type(self, gguf.LlamaFileType.MOSTLY_Q4_0)
    sys.argv = ["convert_hf_to_gguf.py", work, "--outtype", "f16", "--outfile", out]
    cv.main()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-src", required=True)
    ap.add_argument("--shape", required=True, help="JSON: hidden layers heads kvHeads headDim intermediate vocab maxContext")
    ap.add_argument("--dense", choices=["f32", "f16"], default="f32")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    hf_folder(json.loads(a.shape), a.work)
    convert(a.llama_src, a.work, a.out, a.dense)


if __name__ == "__main__":
    main()
