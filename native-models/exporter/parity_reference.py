#!/usr/bin/python3
"""Parity material for a `parity` config bigger than the test pack (head dim 32, 4 query heads per kv head):
random LLaMA weights -> fp32, int4 and GroupQueryAttention-fp32 decoder graphs (export_pack's builder) + the PyTorch reference
(../testpack/model.py DecoderCore with the same weights) for a prefill and three cached decode steps.

  /usr/bin/python3 parity_reference.py OUT_DIR      -> OUT_DIR/decoder.{fp32,int4,gqa-fp32}.onnx, OUT_DIR/reference.json
Run by exporter.int.test.ts when torch is importable (CI has no torch: that part is skipped there).
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "testpack"))
import torch  # noqa: E402

from checkpoints import random_llama  # noqa: E402
from decoder_graph import build_decoder, save  # noqa: E402
from model import DecoderCore  # noqa: E402

PARITY = {"hidden": 256, "layers": 2, "heads": 8, "kv_heads": 2, "head_dim": 32, "intermediate": 512,
          "vocab": 1000, "rope_theta": 10000.0, "rms_eps": 1e-5}


def torch_core(c, w):
    core = DecoderCore(c)
    sd = {"norm.weight": w["norm"], "lm_head.weight": w["lm_head"]}
    for i, lw in enumerate(w["layers"]):
        for n in ("q", "k", "v", "o", "gate", "up", "down"):
            sd[f"layers.{i}.{n}.weight"] = lw[n]
        sd[f"layers.{i}.in_norm.weight"] = lw["in_norm"]
        sd[f"layers.{i}.post_norm.weight"] = lw["post_norm"]
    core.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()})
    return core.eval()


def main(out):
    os.makedirs(out, exist_ok=True)
    c = PARITY
    rng = np.random.default_rng(3)
    w = random_llama(c, rng)
    for lw in w["layers"]:  # non-trivial norms so a mis-wired norm weight shows
        lw["in_norm"] = (1 + 0.1 * rng.standard_normal(c["hidden"])).astype(np.float32)
        lw["post_norm"] = (1 + 0.1 * rng.standard_normal(c["hidden"])).astype(np.float32)
    save(build_decoder(c, w, "fp32"), os.path.join(out, "decoder.fp32.onnx"))
    save(build_decoder(c, w, "int4"), os.path.join(out, "decoder.int4.onnx"))
    # the Q4_0-sized pack option (block 64, symmetric) with int8 compute, as the CPU runs it
    save(build_decoder(c, w, "int4", accuracy_level=4, block=64, symmetric=True), os.path.join(out, "decoder.int4-q40.onnx"))
    save(build_decoder(c, w, "fp32", attention="gqa"), os.path.join(out, "decoder.gqa-fp32.onnx"))
    core = torch_core(c, w)
    T = 7
    x = torch.from_numpy(rng.standard_normal((1, T, c["hidden"])).astype(np.float32))
    steps = [{"embeds": x, "P": 0}]
    for s in range(3):
        steps.append({"embeds": torch.from_numpy(rng.standard_normal((1, 1, c["hidden"])).astype(np.float32)),
                      "P": T + s})
    past = [(torch.zeros(1, c["kv_heads"], 0, c["head_dim"]),) * 2 for _ in range(c["layers"])]
    ref = []
    with torch.no_grad():
        for st in steps:
            t = st["embeds"].shape[1]
            pos = torch.arange(st["P"], st["P"] + t).unsqueeze(0)
            mask = torch.ones(1, st["P"] + t, dtype=torch.int64)
            logits, past, hidden = core.run(st["embeds"], mask, pos, past)
            ref.append({"embeds": st["embeds"].reshape(-1).tolist(), "T": t, "P": st["P"],
                        "logits": logits.reshape(-1).tolist(), "hidden": hidden.reshape(-1).tolist()})
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"config": c, "steps": ref}, f)


if __name__ == "__main__":
    main(sys.argv[1])
