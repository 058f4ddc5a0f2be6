#!/usr/bin/python3
"""Fake LLaVA-1.5 / GeoChat checkpoints for llava_vision.py, in the real file layouts and key names, checked against
an independent functional reference (plain torch ops on the raw tensors, float64, HF's hidden_states indexing).
Writes into OUT (for llavaVision.int.test.ts), exit 1 on failure:

  clipA/        HF CLIPModel folder: config.json (CLIPConfig, nested vision_config), preprocessor_config.json,
                model.safetensors fp32 with vision_model.* AND text_model.* / projections / logit_scale (ignored);
                ViT patch 14 at 56 px (4x4 = 16 patches), width 48, 3 layers, 4 heads, MLP 192, quick-GELU
  llavaA/       LLaVA-1.5 folder: config.json (the tiny LLaMA's + mm_* fields, mlp2x_gelu, select layer -2) and two
                bf16 shards model-0000{1,2}-of-00002.safetensors (+ index) holding the LLaMA and model.mm_projector.{0,2}.*
  llavaB/       LLaVA folder with the tower embedded (model.vision_tower.vision_tower.vision_model.*, fp16), patch 16
                at 64 px, width 128 (2 heads of 64), 2 layers, `linear` projector, select layer -1; LLaMA fp32
  clipC/, llavaC/  GeoChat: CLIPVisionModel pytorch_model.bin (with the position_ids buffer) + model_type geochat and
                a stand-alone mm_projector.bin: positions resized 4x4 -> 36x36 (504 px) -> 1296 tokens
  clipA-missing/, llavaA-badshape/  refusal cases for the CLI
  vision.json   inputs + PyTorch module outputs of A and B for the ONNX comparison
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checkpoint_selftest import write_bf16  # noqa: E402
from checkpoints import read_safetensors, write_safetensors  # noqa: E402
from llava_vision import GEOCHAT_SIZE, load_llava_vision  # noqa: E402

LLAMA = os.path.join(HERE, "fixtures", "tiny-llama-hf")
D = 64  # the tiny LLaMA's hidden size
MM = {"model_type": "llava", "architectures": ["LlavaLlamaForCausalLM"], "mm_vision_tower": "openai/clip-vit-large-patch14-336",
      "mm_projector_type": "mlp2x_gelu", "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
      "mm_use_im_start_end": False, "image_aspect_ratio": "pad"}
bf16 = lambda a: (np.ascontiguousarray(a, np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)  # noqa: E731


def clip_tensors(rng, w, layers, mlp, patch, size):
    """vision_model.* of a CLIPVisionModel with non-trivial norms and biases."""
    n = lambda *s, sc=1.0: (rng.standard_normal(s) * sc).astype(np.float32)  # noqa: E731
    g = size // patch
    t = {"vision_model.embeddings.class_embedding": n(w, sc=0.5),
         "vision_model.embeddings.patch_embedding.weight": n(w, 3, patch, patch, sc=(3 * patch * patch) ** -0.5),
         "vision_model.embeddings.position_embedding.weight": n(g * g + 1, w, sc=0.3)}
    for ln in ("pre_layrnorm", "post_layernorm"):
        t[f"vision_model.{ln}.weight"], t[f"vision_model.{ln}.bias"] = 1 + n(w, sc=0.1), n(w, sc=0.1)
    for i in range(layers):
        p = f"vision_model.encoder.layers.{i}."
        for ln in ("layer_norm1", "layer_norm2"):
            t[p + ln + ".weight"], t[p + ln + ".bias"] = 1 + n(w, sc=0.1), n(w, sc=0.1)
        for lin, o, k in (("self_attn.q_proj", w, w), ("self_attn.k_proj", w, w), ("self_attn.v_proj", w, w),
                          ("self_attn.out_proj", w, w), ("mlp.fc1", mlp, w), ("mlp.fc2", w, mlp)):
            t[p + lin + ".weight"], t[p + lin + ".bias"] = n(o, k, sc=k ** -0.5), n(o, sc=0.1)
    return t


def projector(rng, kind, w):
    n = lambda *s, sc=1.0: (rng.standard_normal(s) * sc).astype(np.float32)  # noqa: E731
    if kind == "linear":
        return {"model.mm_projector.weight": n(D, w, sc=w ** -0.5), "model.mm_projector.bias": n(D, sc=0.1)}
    return {"model.mm_projector.0.weight": n(D, w, sc=w ** -0.5), "model.mm_projector.0.bias": n(D, sc=0.1),
            "model.mm_projector.2.weight": n(D, D, sc=D ** -0.5), "model.mm_projector.2.bias": n(D, sc=0.1)}


def reference(t, pfx, proj, c, x, heads, resize_to=None):
    """Independent of LlavaVision: functional ops in float64 on the raw tensors; all layers run, the feature is
    picked from the HF-style hidden_states list (index 0 = pre-layernormed embeddings)."""
    g = lambda k: torch.from_numpy(np.asarray(t[pfx + "vision_model." + k], np.float64))  # noqa: E731
    x = x.double()
    V, w, eps = x.shape[0], g("embeddings.class_embedding").shape[0], 1e-5
    h = F.conv2d(x, g("embeddings.patch_embedding.weight"), stride=c["patch"])
    h = h.reshape(V, w, -1).permute(0, 2, 1)
    pe = g("embeddings.position_embedding.weight")
    if resize_to:  # GeoChat's clip_interpolate_embeddings, step by step
        s = pe.shape[0] - 1
        s1 = int(round(s ** 0.5))
        img = pe[None, 1:, :].permute(0, 2, 1).reshape(1, w, s1, s1)
        img = F.interpolate(img, size=resize_to, mode="bicubic", align_corners=True)
        pe = torch.cat([pe[None, :1, :], img.reshape(1, w, resize_to * resize_to).permute(0, 2, 1)], dim=1)[0]
    h = torch.cat([g("embeddings.class_embedding").expand(V, 1, w), h], dim=1) + pe
    h = F.layer_norm(h, (w,), g("pre_layrnorm.weight"), g("pre_layrnorm.bias"), eps)
    states, n, hd = [h], h.shape[1], w // heads
    i = 0
    while pfx + f"vision_model.encoder.layers.{i}.mlp.fc1.weight" in t:
        L = lambda k: g(f"encoder.layers.{i}." + k)  # noqa: E731,B023
        y = F.layer_norm(h, (w,), L("layer_norm1.weight"), L("layer_norm1.bias"), eps)
        q, k, v = (F.linear(y, L(f"self_attn.{m}_proj.weight"), L(f"self_attn.{m}_proj.bias"))
                   .reshape(V, n, heads, hd).permute(0, 2, 1, 3) for m in "qkv")
        a = torch.softmax(torch.einsum("bhqd,bhkd->bhqk", q, k) / hd ** 0.5, dim=-1)
        a = torch.einsum("bhqk,bhkd->bqhd", a, v).reshape(V, n, w)
        h = h + F.linear(a, L("self_attn.out_proj.weight"), L("self_attn.out_proj.bias"))
        y = F.linear(F.layer_norm(h, (w,), L("layer_norm2.weight"), L("layer_norm2.bias"), eps), L("mlp.fc1.weight"),
                     L("mlp.fc1.bias"))
        h = h + F.linear(y * torch.sigmoid(1.702 * y), L("mlp.fc2.weight"), L("mlp.fc2.bias"))
        states.append(h)
        i += 1
    f = states[c["select_layer"]][:, 1:]
    P = lambda k: torch.from_numpy(np.asarray(proj["model.mm_projector." + k], np.float64))  # noqa: E731
    if "model.mm_projector.weight" in proj:
        return F.linear(f, P("weight"), P("bias"))
    return F.linear(F.gelu(F.linear(f, P("0.weight"), P("0.bias"))), P("2.weight"), P("2.bias"))


def llava_config(**mm):
    with open(os.path.join(LLAMA, "config.json")) as f:
        cfg = json.load(f)
    return {**cfg, **MM, **mm}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)


def expect_refusal(fn, *needles):
    try:
        fn()
    except SystemExit as e:
        msg = str(e)
        assert all(s in msg for s in needles), f"refusal message {msg!r} lacks {needles}"
        return msg
    raise AssertionError(f"not refused: {needles}")


def main(out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    rng = np.random.default_rng(7)
    torch.manual_seed(7)
    llama = read_safetensors(os.path.join(LLAMA, "model.safetensors"))
    p = lambda *a: os.path.join(out, *a)  # noqa: E731
    report, results = [], {}

    # ---- A: CLIPModel folder + LLaVA with bf16 shards, mlp2x_gelu, select -2
    ca = clip_tensors(rng, 48, 3, 192, 14, 56)
    text = {"text_model.embeddings.token_embedding.weight": rng.standard_normal((100, 32)).astype(np.float32),
            "text_model.final_layer_norm.weight": np.ones(32, np.float32),
            "text_projection.weight": np.zeros((16, 32), np.float32),
            "visual_projection.weight": np.zeros((16, 48), np.float32), "logit_scale": np.array(4.6, np.float32)}
    os.makedirs(p("clipA"))
    write_safetensors(p("clipA", "model.safetensors"), {**ca, **text})
    write_json(p("clipA", "config.json"), {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 16,
        "text_config": {"hidden_size": 32, "num_hidden_layers": 1},
        "vision_config": {"hidden_size": 48, "intermediate_size": 192, "num_hidden_layers": 3, "num_attention_heads": 4,
                          "image_size": 56, "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
                          "projection_dim": 16}})
    write_json(p("clipA", "preprocessor_config.json"), {"crop_size": 56, "image_mean": [0.48145466, 0.4578275, 0.40821073],
                                                        "image_std": [0.26862954, 0.26130258, 0.27577711]})
    pa = projector(rng, "mlp2x_gelu", 48)
    os.makedirs(p("llavaA"))
    write_json(p("llavaA", "config.json"), llava_config(mm_hidden_size=48, torch_dtype="bfloat16"))
    names = sorted(llama)
    shards = [{**{k: llama[k] for k in names[: len(names) // 2]}, "model.mm_projector.0.weight": pa["model.mm_projector.0.weight"],
               "model.mm_projector.0.bias": pa["model.mm_projector.0.bias"]},
              {**{k: llama[k] for k in names[len(names) // 2:]}, "model.mm_projector.2.weight": pa["model.mm_projector.2.weight"],
               "model.mm_projector.2.bias": pa["model.mm_projector.2.bias"]}]
    index = {}
    for i, sh in enumerate(shards):
        fname = f"model-0000{i + 1}-of-00002.safetensors"
        write_bf16(p("llavaA", fname), sh)
        index.update({k: fname for k in sh})
    write_json(p("llavaA", "model.safetensors.index.json"), {"metadata": {}, "weight_map": index})
    ma = load_llava_vision(p("clipA"), p("llavaA"))
    assert ma.cfg["tokens"] == 16 and ma.cfg["image_size"] == 56 and ma.n_run == 2, ma.cfg
    xa = torch.rand(3, 3, 56, 56)
    with torch.no_grad():
        ya = ma(xa)
    ra = reference(ca, "", {k: bf16(v) for k, v in pa.items()}, {"patch": 14, "select_layer": -2}, xa, heads=4)
    assert tuple(ya.shape) == (3, 16, D), ya.shape
    results["A"] = {"input": xa.reshape(-1).tolist(), "inDims": list(xa.shape), "dims": list(ya.shape),
                    "output": ya.reshape(-1).tolist()}
    report.append(("A clipA (CLIPModel fp32) + llavaA (bf16 shards, mlp2x_gelu, layer -2)", ya, ra))

    # ---- B: tower embedded in the LLaVA checkpoint (fp16), linear projector, select -1; full-pack size 64 px
    cb = clip_tensors(rng, 128, 2, 256, 16, 64)
    pb = projector(rng, "linear", 128)
    os.makedirs(p("llavaB"))
    write_json(p("llavaB", "config.json"), llava_config(mm_hidden_size=128, mm_projector_type="linear",
                                                        mm_vision_select_layer=-1))
    half = {**{"model.vision_tower.vision_tower." + k: v.astype(np.float16) for k, v in cb.items()},
            **{k: v.astype(np.float16) for k, v in pb.items()}}
    write_safetensors(p("llavaB", "model.safetensors"), {**llama, **half})
    mb = load_llava_vision(None, p("llavaB"))
    assert mb.cfg["heads"] == 2 and mb.cfg["layers"] == 2 and mb.cfg["image_size"] == 64 and mb.n_run == 2, mb.cfg
    xb = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        yb = mb(xb)
    f16 = lambda d: {k: v.astype(np.float16).astype(np.float32) for k, v in d.items()}  # noqa: E731
    rb = reference(f16(cb), "", f16(pb), {"patch": 16, "select_layer": -1}, xb, heads=2)
    assert tuple(yb.shape) == (2, 16, D), yb.shape
    results["B"] = {"input": xb.reshape(-1).tolist(), "inDims": list(xb.shape), "dims": list(yb.shape),
                    "output": yb.reshape(-1).tolist()}
    report.append(("B tower embedded in llavaB (fp16, linear, layer -1)", yb, rb))

    # ---- C: GeoChat (CLIPVisionModel .bin, mm_projector.bin, model_type geochat -> 504 px)
    os.makedirs(p("clipC"))
    os.makedirs(p("llavaC"))
    sd = {k: torch.from_numpy(v.copy()) for k, v in ca.items()}
    sd["vision_model.embeddings.position_ids"] = torch.arange(17)[None]
    torch.save(sd, p("clipC", "pytorch_model.bin"))
    write_json(p("clipC", "config.json"), {"architectures": ["CLIPVisionModel"], "model_type": "clip_vision_model",
                                           "hidden_size": 48, "intermediate_size": 192, "num_hidden_layers": 3,
                                           "num_attention_heads": 4, "image_size": 56, "patch_size": 14})
    write_json(p("llavaC", "config.json"), llava_config(model_type="geochat", architectures=["GeoChatLlamaForCausalLM"],
                                                        mm_hidden_size=48))
    torch.save({k: torch.from_numpy(v.copy()) for k, v in pa.items()}, p("llavaC", "mm_projector.bin"))
    mc = load_llava_vision(p("clipC"), p("llavaC"))
    g = GEOCHAT_SIZE // 14
    assert mc.cfg["image_size"] == GEOCHAT_SIZE and mc.cfg["tokens"] == g * g == 1296, mc.cfg
    xc = torch.rand(1, 3, GEOCHAT_SIZE, GEOCHAT_SIZE)
    with torch.no_grad():
        yc = mc(xc)
    rc = reference(ca, "", pa, {"patch": 14, "select_layer": -2}, xc, heads=4, resize_to=g)
    assert tuple(yc.shape) == (1, 1296, D), yc.shape
    report.append(("C GeoChat: clipC (.bin) + mm_projector.bin, 4x4 -> 36x36 positions, 504 px", yc, rc))

    worst = 0.0
    for name, y, r in report:
        err = (y.double() - r).abs().max().item()
        worst = max(worst, err)
        print(f"{name}: module vs functional reference max |diff| {err:.2e} (|y| max {r.abs().max().item():.2f})")
        assert err <= 1e-5, f"{name}: {err}"

    # ---- refusals (also used by the CLI test)
    shutil.copytree(p("clipA"), p("clipA-missing"))
    write_safetensors(p("clipA-missing", "model.safetensors"),
                      {k: v for k, v in {**ca, **text}.items() if k != "vision_model.encoder.layers.1.mlp.fc2.bias"})
    shutil.copytree(p("llavaA"), p("llavaA-badshape"))
    bad = read_safetensors(p("llavaA", "model-00002-of-00002.safetensors"))
    bad["model.mm_projector.2.weight"] = bad["model.mm_projector.2.weight"][:, :63]
    write_bf16(p("llavaA-badshape", "model-00002-of-00002.safetensors"), bad)
    msgs = [
        expect_refusal(lambda: load_llava_vision(p("clipA-missing"), p("llavaA")), "vision_model.encoder.layers.1.mlp.fc2.bias"),
        expect_refusal(lambda: load_llava_vision(p("clipA"), p("llavaA-badshape")), "model.mm_projector.2.weight", "[64, 63]"),
        expect_refusal(lambda: load_llava_vision(None, p("llavaA")), "model.vision_tower.vision_tower.vision_model"),
        expect_refusal(lambda: load_llava_vision(p("clipA"), p("llavaB")), "mm_hidden_size 128"),
    ]
    os.makedirs(p("clipA-extra"))
    shutil.copy(p("clipA", "config.json"), p("clipA-extra"))
    extra = {**ca, **{k.replace("layers.2.", "layers.3."): v for k, v in ca.items() if ".layers.2." in k}}
    write_safetensors(p("clipA-extra", "model.safetensors"), extra)
    msgs.append(expect_refusal(lambda: load_llava_vision(p("clipA-extra"), p("llavaA")), "vision_model.encoder.layers.3."))
    print("refused: " + " | ".join(msgs))
    with open(p("vision.json"), "w") as f:
        json.dump(results, f)
    print(f"llava vision loader: CLIPModel / CLIPVisionModel / embedded tower, bf16 shards / fp16 / .bin, "
          f"mlp2x_gelu / linear, GeoChat 504 px: ok (worst {worst:.2e})")


if __name__ == "__main__":
    main(sys.argv[1])
