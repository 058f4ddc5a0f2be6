#!/usr/bin/python3
"""Writes the small committed fixtures under fixtures/ (≈1 MB in all); deterministic, a few seconds.

1. fixtures/tiny-llama-hf/: a fake Hugging Face LLaMA checkpoint (config.json + model.safetensors, tensor names
   as transformers' LlamaForCausalLM) holding the *trained* test-pack decoder and embedding, lifted from
   ../testpack/pack/{decoder,embed}.onnx. Trained weights matter: greedy-token agreement of int4 vs fp32 is only
   meaningful on a model whose logits are not flat.
2. fixtures/decoder.{fp32,int4,int4-gqa,int4-gqa-fp16,int4-gqa-opts}.onnx: export_pack.py --config tiny
   --checkpoint (1), the last three with --attention gqa (GroupQueryAttention: the graph shape the GPU path builds
   on), -fp16 in fp16, -opts with issue 16's CPU pack options (OPTS: int8 compute, last-row logits, fp16 KV cache).
3. fixtures/matmulnbits.onnx + .json: one MatMulNBits node (K = 80, a ragged last block) with its input and the
   numpy result of x @ dequantise(W)^T, pinning the packing layout against onnxruntime's kernel.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checkpoints import write_safetensors  # noqa: E402
from quant import BLOCK, dequantise, quantise  # noqa: E402

FIX = os.path.join(HERE, "fixtures")
PACK = os.path.join(HERE, "..", "testpack", "pack")


def lift_testpack(out):
    dec = onnx.load(os.path.join(PACK, "decoder.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in dec.graph.initializer}
    # torch names the transposed Linear weights onnx::MatMul_N; their order of use is q,k,v,o,gate,up,down per
    # layer, then the LM head (model.py DecoderLayer.forward), which is how they are told apart.
    mats = [n.input[1] for n in dec.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    emb = onnx.load(os.path.join(PACK, "embed.onnx"))
    table = [numpy_helper.to_array(t) for t in emb.graph.initializer if len(t.dims) == 2][0]
    man = json.load(open(os.path.join(PACK, "manifest.json")))["llm"]
    L = man["layers"]
    assert len(mats) == 7 * L + 1, len(mats)
    t = {"model.embed_tokens.weight": table, "model.norm.weight": inits["core.norm.weight"],
         "lm_head.weight": inits[mats[-1]].T}
    names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
             "mlp.up_proj", "mlp.down_proj"]
    for i in range(L):
        for j, n in enumerate(names):
            t[f"model.layers.{i}.{n}.weight"] = inits[mats[7 * i + j]].T
        t[f"model.layers.{i}.input_layernorm.weight"] = inits[f"core.layers.{i}.in_norm.weight"]
        t[f"model.layers.{i}.post_attention_layernorm.weight"] = inits[f"core.layers.{i}.post_norm.weight"]
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), {k: np.ascontiguousarray(v, np.float32) for k, v in t.items()})
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": man["hidden"],
           "num_hidden_layers": L, "num_attention_heads": man["heads"], "num_key_value_heads": man["kvHeads"],
           "intermediate_size": t["model.layers.0.mlp.up_proj.weight"].shape[0], "vocab_size": man["vocab"],
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "torch_dtype": "float32"}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def matmulnbits_fixture(name="matmulnbits", block=BLOCK, symmetric=False):
    """name.onnx + name.json; block 64 symmetric (no zero-points input): the Q4_0-sized pack option"""
    rng = np.random.default_rng(7)
    n, k = 24, 80
    w = rng.standard_normal((n, k)).astype(np.float32) * 0.1
    packed, scales, zp = quantise(w, block, symmetric)
    x = rng.standard_normal((1, 3, k)).astype(np.float32)
    y = x @ dequantise(packed, scales, zp, k, block).T
    inits = [numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales, "scales")]
    if zp is not None:
        inits.append(numpy_helper.from_array(zp, "zp"))
    node = helper.make_node("MatMulNBits", ["x", "B", "scales"] + (["zp"] if zp is not None else []), ["y"],
                            domain="com.microsoft", K=k, N=n, bits=4, block_size=block)
    g = helper.make_graph([node], "mnb", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, n])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    onnx.save(m, os.path.join(FIX, f"{name}.onnx"))
    # how far int4 is from the fp32 weights, for the README's quantisation-error figure
    rel = float(np.abs(dequantise(packed, scales, zp, k, block) - w).max() / np.abs(w).max())
    with open(os.path.join(FIX, f"{name}.json"), "w") as f:
        json.dump({"K": k, "N": n, "x": x.reshape(-1).tolist(), "y": y.reshape(-1).tolist(),
                   "yFp32": (x @ w.T).reshape(-1).tolist(),
                   "maxRelWeightError": rel}, f)
        f.write("\n")


# issue 16's CPU pack options together (int8 compute, last-row logits, fp16 KV cache): their agreement is measured
OPTS = ["--accuracy-level", "4", "--last-logits", "--kv-dtype", "float16"]
# the Q4_0-sized pack option (4.5 bits a weight read, as llama.cpp's Q4_0) with int8 compute, as the CPU runs it
Q40 = ["--block-size", "64", "--symmetric", "--accuracy-level", "4"]


def main():
    os.makedirs(FIX, exist_ok=True)
    ckpt = os.path.join(FIX, "tiny-llama-hf")
    lift_testpack(ckpt)
    import export_pack

    for q, att, dt, name, opts in (("fp32", "matmul", "float32", "fp32", []), ("int4", "matmul", "float32", "int4", []),
                                   ("int4", "gqa", "float32", "int4-gqa", []), ("int4", "gqa", "float16", "int4-gqa-fp16", []),
                                   ("int4", "gqa", "float32", "int4-gqa-opts", OPTS),
                                   ("int4", "gqa", "float32", "int4-gqa-q40", Q40)):
        tmp = os.path.join(FIX, f".tmp-{name}")
        export_pack.main(["--config", "tiny", "--checkpoint", ckpt, "--quant", q, "--attention", att, "--dtype", dt,
                          "--only", "decoder", "--out", tmp, *opts])
        os.replace(os.path.join(tmp, "decoder.onnx"), os.path.join(FIX, f"decoder.{name}.onnx"))
        os.rmdir(tmp)
    matmulnbits_fixture()
    matmulnbits_fixture("matmulnbits-b64-sym", 64, True)
    print("fixtures written to", FIX)


if __name__ == "__main__":
    main()
