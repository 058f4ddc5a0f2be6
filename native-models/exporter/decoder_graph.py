"""The contract's `decoder` and `embed` stages written node by node with onnx.helper.

torch 1.13 cannot emit com.microsoft MatMulNBits, so the int4 decoder is built directly; the fp32 variant comes
from the same builder (only the linear layers differ), which is what lets the fp32 graph be checked against the
PyTorch reference (native-models/testpack/model.py DecoderCore) and the int4 graph against the fp32 one.
The math mirrors DecoderCore.run line by line: RoPE from position_ids, causal mask from cumsum(attention_mask),
GQA by repeating each kv head for heads/kv_heads consecutive query heads, SwiGLU, final RMSNorm = hidden_states.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from quant import BLOCK, quantise, random_packed

OPSET = 17


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def fresh(self, p):
        self.n += 1
        return f"{p}_{self.n}"

    def const(self, arr, name=None):
        name = name or self.fresh("const")
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, op_type, inputs, n_out=1, out=None, domain=None, **attrs):
        outs = out if out is not None else [self.fresh(op_type) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, domain=domain, **attrs))
        return outs[0] if len(outs) == 1 else outs


def _linear(g, x, w, name, quant, rng, npdt=np.float32, accuracy_level=0, block=BLOCK, symmetric=False):
    """x [1,T,K] -> [1,T,N]; w is [N,K] (HF layout) or (N, K) for random int4."""
    if quant == "fp32":  # dense linears in the graph's float type
        return g.op("MatMul", [x, g.const(np.ascontiguousarray(w.T.astype(npdt)), name + ".weight")])
    if isinstance(w, tuple):
        n, k = w
        packed, scales, zp = random_packed(n, k, rng, block, symmetric=symmetric)
    else:
        n, k = w.shape
        packed, scales, zp = quantise(w, block, symmetric)
    ins = [x, g.const(packed, name + ".qweight"), g.const(scales.astype(npdt), name + ".scales")]
    if zp is not None:  # symmetric packs leave the optional zero_points input out (the op takes 8)
        ins.append(g.const(zp, name + ".qzeros"))
    # accuracy_level 4: onnxruntime may quantise the activations to int8 per block and use integer dot products
    # (MLAS CompInt8); 0 (default, attribute left out): fp32 compute
    extra = {"accuracy_level": accuracy_level} if accuracy_level else {}
    return g.op("MatMulNBits", ins, domain="com.microsoft", K=k, N=n, bits=4, block_size=block, **extra)


def _rms(g, x, w, eps, name, half=False):
    """RMSNorm, always in float32: in float16 the mean of squares of LLaMA activations overflows."""
    if half:
        x = g.op("Cast", [x], to=TensorProto.FLOAT)
    ms = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
    inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, g.const(np.float32(eps))])])])
    y = g.op("Mul", [g.op("Mul", [x, inv]), g.const(np.asarray(w, np.float32), name)])
    return g.op("Cast", [y], to=TensorProto.FLOAT16) if half else y


def _rotate(g, x, cos, sin, half):
    a, b = g.op("Split", [x, g.const(np.array([half, half], np.int64))], n_out=2, axis=-1)
    rot = g.op("Concat", [g.op("Neg", [b]), a], axis=-1)
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])])


def build_decoder(c, weights, quant, rng=None, attention="matmul", dtype="float32", accuracy_level=0,
                  last_logits=False, kv_dtype=None, block=BLOCK, symmetric=False):
    """weights: load_llama()/random_llama() dict, or None for random packed int4 (speed packs).

    attention="matmul": plain ONNX ops (Concat past + new, Expand kv heads, MatMul/Softmax), runs everywhere.
    attention="gqa": com.microsoft GroupQueryAttention per layer (causal, GQA-aware, appends to the cache itself;
    RoPE still applied by us so positions follow the contract's position_ids). Same contract I/O; it is the graph
    the GPU path builds on (GQA's shared past/present buffer keeps the cache in place on CUDA, fp16 there).
    dtype="float16": every float input/output (embeds, KV cache, logits, hidden) and weight/scale is fp16; RoPE,
    the causal bias and RMSNorm are computed in fp32 and cast, so positions beyond 2048 keep their precision.
    Pack options (issue 16; defaults leave the graph as before): accuracy_level on every MatMulNBits; last_logits:
    `logits` holds the last row only ([1,1,vocab]: prefill skips the LM head for the other rows; hidden_states keeps
    every row); kv_dtype="float16" with GQA attention in a float32 graph: the KV cache (past/present) is fp16, q/k/v
    are cast to fp16 for GroupQueryAttention and its output back to fp32. block / symmetric: MatMulNBits block size
    and zero points (quant.py; block 64 symmetric reads Q4_0's 4.5 bits a weight).
    """
    half = dtype == "float16"
    npdt = np.float16 if half else np.float32
    tocast = (lambda t: g.op("Cast", [t], to=TensorProto.FLOAT16)) if half else (lambda t: t)  # noqa: E731
    d, h, kvh, hd, L = c["hidden"], c["heads"], c["kv_heads"], c["head_dim"], c["layers"]
    rep = h // kvh
    g = Graph()
    f = TensorProto.FLOAT16 if half else TensorProto.FLOAT
    f32 = TensorProto.FLOAT
    kv_half = kv_dtype == "float16" and not half
    if kv_half and attention != "gqa":
        raise ValueError("kv_dtype float16 needs attention='gqa' (the plain-op attention keeps the graph's float type)")
    fkv = TensorProto.FLOAT16 if kv_half else f
    inputs = [helper.make_tensor_value_info("inputs_embeds", f, [1, "T", d]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [1, "PT"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, [1, "T"])]
    outputs = [helper.make_tensor_value_info("logits", f, [1, 1 if last_logits else "T", c["vocab"]])]
    for i in range(L):
        for kv in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kv}", fkv, [1, kvh, "P", hd]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kv}", fkv, [1, kvh, "PT", hd]))
    outputs.append(helper.make_tensor_value_info("hidden_states", f, [1, "T", d]))

    # RoPE tables [1,1,T,hd]
    inv = 1.0 / (c["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float32) / hd))
    pos = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], to=f32), g.const(np.array([-1], np.int64))])
    freqs = g.op("Mul", [pos, g.const(inv.astype(np.float32))])
    emb = g.op("Unsqueeze", [g.op("Concat", [freqs, freqs], axis=-1), g.const(np.array([1], np.int64))])
    bias = seqlens = total = None
    if attention == "gqa":  # [1,T,1,hd]: rotate in the [B,T,heads,hd] layout GQA's inputs keep; GQA is causal itself
        emb_t = g.op("Transpose", [emb], perm=[0, 2, 1, 3])
        cos, sin = tocast(g.op("Cos", [emb_t])), tocast(g.op("Sin", [emb_t]))
        width = g.op("Gather", [g.op("Shape", ["attention_mask"]), g.const(np.array(1, np.int64))], axis=0)
        total = g.op("Cast", [width], to=TensorProto.INT32)
        attended = g.op("ReduceSum", ["attention_mask", g.const(np.array([1], np.int64))], keepdims=0)
        seqlens = g.op("Cast", [g.op("Sub", [attended, g.const(np.array(1, np.int64))])], to=TensorProto.INT32)
    else:
        cos, sin = tocast(g.op("Cos", [emb])), tocast(g.op("Sin", [emb]))
        # causal bias [1,1,T,P+T]: key j visible to query i when cumsum(mask)_j - 1 <= pos_i and mask_j > 0
        key_pos = g.op("Sub", [g.op("CumSum", ["attention_mask", g.const(np.array(1, np.int64))]),
                               g.const(np.array(1, np.int64))])
        le = g.op("LessOrEqual", [g.op("Unsqueeze", [key_pos, g.const(np.array([1], np.int64))]),
                                  g.op("Unsqueeze", ["position_ids", g.const(np.array([2], np.int64))])])
        on = g.op("Greater", [g.op("Unsqueeze", ["attention_mask", g.const(np.array([1], np.int64))]),
                              g.const(np.array(0, np.int64))])
        allowed = g.op("Cast", [g.op("And", [le, on])], to=f32)
        bias = g.op("Unsqueeze", [g.op("Mul", [g.op("Sub", [g.const(np.float32(1.0)), allowed]),
                                              g.const(np.float32(-3e4 if half else -1e9))]),
                                  g.const(np.array([1], np.int64))])
        bias = tocast(bias)
    scale = g.const(npdt(1.0 / np.sqrt(hd)))
    shape_q = g.const(np.array([0, -1, h, hd], np.int64))
    shape_kv = g.const(np.array([0, -1, kvh, hd], np.int64))
    shape_rep = g.const(np.array([0, h, -1, hd], np.int64))
    shape_out = g.const(np.array([0, -1, h * hd], np.int64))
    expand = g.const(np.array([1, 1, rep, 1, 1], np.int64))
    ax2 = g.const(np.array([2], np.int64))

    shape_kvo = g.const(np.array([0, -1, kvh * hd], np.int64))
    from configs import linear_shapes

    shapes = {name: (n, k) for name, n, k in linear_shapes(c)}
    x = "inputs_embeds"
    for i in range(L):
        lw = weights["layers"][i] if weights else {n: shapes[n] for n in shapes}
        p = f"layers.{i}."
        hn = _rms(g, x, lw.get("in_norm", np.ones(d, np.float32)), c["rms_eps"], p + "in_norm.weight", half)
        lin = lambda name, inp: _linear(g, inp, lw[name], p + name, quant, rng, npdt, accuracy_level, block, symmetric)  # noqa: E731
        if attention == "gqa":
            q = g.op("Reshape", [_rotate(g, g.op("Reshape", [lin("q", hn), shape_q]), cos, sin, hd // 2), shape_out])
            k = g.op("Reshape", [_rotate(g, g.op("Reshape", [lin("k", hn), shape_kv]), cos, sin, hd // 2), shape_kvo])
            v = lin("v", hn)
            if kv_half:
                q, k, v = (g.op("Cast", [t], to=TensorProto.FLOAT16) for t in (q, k, v))
            y = g.op("GroupQueryAttention", [q, k, v, f"past_key_values.{i}.key",
                                             f"past_key_values.{i}.value", seqlens, total],
                     out=[g.fresh("gqa"), f"present.{i}.key", f"present.{i}.value"], domain="com.microsoft",
                     num_heads=h, kv_num_heads=kvh, scale=float(1.0 / np.sqrt(hd)))[0]
            if kv_half:
                y = g.op("Cast", [y], to=f32)
        else:
            q = g.op("Transpose", [g.op("Reshape", [lin("q", hn), shape_q])], perm=[0, 2, 1, 3])
            k = g.op("Transpose", [g.op("Reshape", [lin("k", hn), shape_kv])], perm=[0, 2, 1, 3])
            v = g.op("Transpose", [g.op("Reshape", [lin("v", hn), shape_kv])], perm=[0, 2, 1, 3])
            q = _rotate(g, q, cos, sin, hd // 2)
            k = _rotate(g, k, cos, sin, hd // 2)
            k = g.op("Concat", [f"past_key_values.{i}.key", k], out=[f"present.{i}.key"], axis=2)
            v = g.op("Concat", [f"past_key_values.{i}.value", v], out=[f"present.{i}.value"], axis=2)
            kk = g.op("Reshape", [g.op("Expand", [g.op("Unsqueeze", [k, ax2]), expand]), shape_rep])
            vv = g.op("Reshape", [g.op("Expand", [g.op("Unsqueeze", [v, ax2]), expand]), shape_rep])
            att = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [kk], perm=[0, 1, 3, 2])]), scale]),
                               bias])
            y = g.op("MatMul", [g.op("Softmax", [att], axis=-1), vv])
            y = g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1, 3]), shape_out])
        x = g.op("Add", [x, lin("o", y)])
        hn = _rms(g, x, lw.get("post_norm", np.ones(d, np.float32)), c["rms_eps"], p + "post_norm.weight", half)
        gate = lin("gate", hn)
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), lin("up", hn)])
        x = g.op("Add", [x, lin("down", act)])
    norm_w = weights["norm"] if weights else np.ones(d, np.float32)
    hidden = _rms(g, x, norm_w, c["rms_eps"], "norm.weight", half)
    g.op("Identity", [hidden], out=["hidden_states"])
    head = weights["lm_head"] if weights else None
    if head is None:  # random speed pack
        head = (rng.standard_normal((c["vocab"], d), dtype=np.float32) / np.sqrt(d)).astype(np.float32)
    head_in = "hidden_states"
    if last_logits:  # the last row only: [1,T,D] -> [1,1,D]
        head_in = g.op("Slice", [hidden, g.const(np.array([-1], np.int64)), g.const(np.array([2**62], np.int64)),
                                 g.const(np.array([1], np.int64))])
    g.op("MatMul", [head_in, g.const(np.ascontiguousarray(head.T.astype(npdt)), "lm_head.weight")],
         out=["logits"])

    graph = helper.make_graph(g.nodes, "vantage-decoder", inputs, outputs, g.inits)
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="vantage-exporter")
    model.ir_version = 8
    return model


def build_embed(c, table, dtype="float32"):
    half = dtype == "float16"
    g = Graph()
    w = g.const(np.asarray(table, np.float16 if half else np.float32), "embed_tokens.weight")
    g.op("Gather", [w, "input_ids"], out=["inputs_embeds"], axis=0)
    ft = TensorProto.FLOAT16 if half else TensorProto.FLOAT
    graph = helper.make_graph(g.nodes, "vantage-embed",
                              [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "T"])],
                              [helper.make_tensor_value_info("inputs_embeds", ft, [1, "T", c["hidden"]])],
                              g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vantage-exporter")
    model.ir_version = 8
    return model


def save(model, path):
    """Graphs over 2 GiB (the protobuf limit) keep their weights in `<file>.data` beside them."""
    weight_bytes = sum(len(t.raw_data) for t in model.graph.initializer)
    if weight_bytes > 1_800_000_000:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=path.split("/")[-1] + ".data", size_threshold=1024)
    else:
        onnx.save_model(model, path)
