#!/usr/bin/python3
"""Loader cases the committed fixture does not cover, checked in a temp folder (exit 1 on failure):
sharded safetensors (two files, as HF writes `model-0000x-of-0000y.safetensors`), bf16 tensors, a tied LM head
(no `lm_head.weight`), and extra LLaVA tensors (`model.mm_projector.*`) that must be ignored."""
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checkpoints import config_from_hf, load_llama, read_safetensors  # noqa: E402
from configs import CONFIGS  # noqa: E402


def write_bf16(path, tensors):
    header, off, blobs = {}, 0, []
    for k in sorted(tensors):
        bits = (np.ascontiguousarray(tensors[k], np.float32).view(np.uint32) >> 16).astype(np.uint16)
        raw = bits.tobytes()
        header[k] = {"dtype": "BF16", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    src = os.path.join(HERE, "fixtures", "tiny-llama-hf")
    t = read_safetensors(os.path.join(src, "model.safetensors"))
    d = tempfile.mkdtemp()
    try:
        shutil.copy(os.path.join(src, "config.json"), d)
        names = sorted(k for k in t if k != "lm_head.weight")
        half = len(names) // 2
        write_bf16(os.path.join(d, "model-00001-of-00002.safetensors"), {k: t[k] for k in names[:half]})
        extra = {"model.mm_projector.0.weight": np.ones((4, 4), np.float32)}
        write_bf16(os.path.join(d, "model-00002-of-00002.safetensors"), {**{k: t[k] for k in names[half:]}, **extra})
        c = config_from_hf(d, CONFIGS["tiny"])
        w = load_llama(d, c)
        trunc = lambda a: (np.ascontiguousarray(a, np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)  # noqa: E731
        assert np.array_equal(w["layers"][1]["down"], trunc(t["model.layers.1.mlp.down_proj.weight"])), "bf16 / shards"
        assert np.array_equal(w["lm_head"], trunc(t["model.embed_tokens.weight"])), "tied head falls back to embedding"
        assert c["kv_heads"] == 2 and c["intermediate"] == 128, c
    finally:
        shutil.rmtree(d)
    print("checkpoint loader: sharded bf16, tied head, extra LLaVA tensors: ok")


if __name__ == "__main__":
    main()
