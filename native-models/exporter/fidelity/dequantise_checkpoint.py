#!/usr/bin/python3
"""Separates quantisation error from conversion error in the int4 figures: copies an HF LLaMA-layout checkpoint
with every decoder linear replaced by its int4 round trip (quant.py quantise -> dequantise, exactly what
MatMulNBits computes with), so `export_pack.py --quant fp32` of the copy must equal `--quant int4` of the original
up to float rounding; whatever int4 differs from fp32 beyond that is the quantisation itself.

  /usr/bin/python3 dequantise_checkpoint.py SRC_DIR DST_DIR
"""
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from checkpoints import read_safetensors, write_safetensors  # noqa: E402
from quant import dequantise, quantise  # noqa: E402

LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    t = read_safetensors(os.path.join(src, "model.safetensors"))
    out = {}
    for k, v in t.items():
        if k.startswith("model.layers.") and k.split(".")[-2] in LINEARS:
            out[k] = dequantise(*quantise(v), v.shape[1]).astype(np.float32)
        else:
            out[k] = np.asarray(v, np.float32)
    write_safetensors(os.path.join(dst, "model.safetensors"), out)
    shutil.copyfile(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    print(json.dumps({"dequantised": sum(1 for k in out if k.split(".")[-2] in LINEARS)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
