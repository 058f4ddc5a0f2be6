#!/usr/bin/python3
"""Fake GeoChat-7B and SAM ViT-H checkpoints in the released files' layouts, small, for the README recipe's CI run.

  /usr/bin/python3 native-models/exporter/recipe_fakes.py --geochat DIR --sam DIR/sam_vit_h_4b8939.pth

GeoChat-7B (huggingface.co/MBZUAI/geochat-7B): a folder with config.json (model_type `geochat`, LLaVA-1.5 mm_* fields),
generation_config.json, special_tokens_map.json, tokenizer_config.json, a sentencepiece tokenizer.model,
pytorch_model-00001-of-00002.bin + pytorch_model-00002-of-00002.bin (torch.save'd state dicts: the LLaMA decoder
`model.layers.*` / `model.embed_tokens` / `model.norm` / `lm_head`, `model.mm_projector.{0,2}.*` and the CLIP tower
embedded as `model.vision_tower.vision_tower.vision_model.*`; float16 decoder, float32 tower — the published shards
hold both HalfStorage and FloatStorage) and pytorch_model.bin.index.json (`metadata.total_size`, `weight_map`).
Reduced: decoder D 64, 2 layers, 4 heads (MHA, as LLaMA-2-7B), SwiGLU 172; the committed 1 200-piece LLaMA-style
sentencepiece model (fidelity/tok_fixtures/tiny_sp.model) as tokenizer.model and vocab; CLIP at its real 336 px /
patch 14 (577 positions, resized to 504 px by the exporter as GeoChat does) but 64 wide, 3 layers.

SAM ViT-H (`sam_vit_h_4b8939.pth`, github.com/facebookresearch/segment-anything): one torch.save'd float32 state dict
with `image_encoder.*`, `prompt_encoder.*`, `mask_decoder.*`. Names and the prompt encoder / mask decoder shapes are
segment_anything's own (the upstream state-dict spec recorded in fidelity/sam_fixtures/ci.json); the image encoder
keeps ViT-H's 80-wide heads, 1024-px position table (64x64), 14-window / global split (global blocks' relative tables
span the 64 grid) and 256-channel neck at 80 wide (one head), 4 blocks (global 1 and 3; ViT-H: 1280 wide, 16 heads,
32 blocks, global 7/15/23/31). Values: numpy PCG64 (seeded), scaled like the real initialisation (fidelity/sam_checkpoint.py's rules).
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "fidelity"))

SP_MODEL = os.path.join(HERE, "fidelity", "tok_fixtures", "tiny_sp.model")
SAM_SPEC = os.path.join(HERE, "fidelity", "sam_fixtures", "ci.json")
G = {"hidden": 64, "layers": 2, "heads": 4, "intermediate": 172, "vocab": 1200}  # vocab = tiny_sp.model's pieces
CLIP = {"width": 64, "layers": 3, "mlp": 256, "patch": 14, "size": 336}
SAM_H = {"width": 80, "head_dim": 80, "depth": 4, "global": [1, 3], "pos_grid": 64, "window": 14, "patch": 16}


def geochat_config():
    """config.json as GeoChat-7B publishes it (LLaVA-1.5 fields, GeoChat's model_type), at the reduced sizes."""
    return {
        "_name_or_path": "geochat-7B", "architectures": ["GeoChatLlamaForCausalLM"], "model_type": "geochat",
        "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "hidden_act": "silu",
        "hidden_size": G["hidden"], "intermediate_size": G["intermediate"], "num_attention_heads": G["heads"],
        "num_hidden_layers": G["layers"], "num_key_value_heads": G["heads"], "max_position_embeddings": 4096,
        "initializer_range": 0.02, "rms_norm_eps": 1e-05, "rope_scaling": None, "pretraining_tp": 1,
        "tie_word_embeddings": False, "torch_dtype": "float16", "transformers_version": "4.31.0", "use_cache": True,
        "vocab_size": G["vocab"], "freeze_mm_mlp_adapter": False, "image_aspect_ratio": "pad",
        "mm_hidden_size": CLIP["width"], "mm_projector_type": "mlp2x_gelu", "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False, "mm_vision_select_feature": "patch", "mm_vision_select_layer": -2,
        "mm_vision_tower": "openai/clip-vit-large-patch14-336", "tune_mm_mlp_adapter": False, "use_mm_proj": True,
    }


def geochat_tensors(rng):
    from llava_selftest import clip_tensors

    d, f, v = G["hidden"], G["intermediate"], G["vocab"]
    n = lambda *s, sc: (rng.standard_normal(s) * sc).astype(np.float32)  # noqa: E731
    t = {"model.embed_tokens.weight": n(v, d, sc=0.02)}
    for i in range(G["layers"]):
        p = f"model.layers.{i}."
        for name, o, k in (("self_attn.q_proj", d, d), ("self_attn.k_proj", d, d), ("self_attn.v_proj", d, d),
                           ("self_attn.o_proj", d, d), ("mlp.gate_proj", f, d), ("mlp.up_proj", f, d),
                           ("mlp.down_proj", d, f)):
            t[p + name + ".weight"] = n(o, k, sc=k ** -0.5)
        t[p + "input_layernorm.weight"] = 1 + n(d, sc=0.05)
        t[p + "post_attention_layernorm.weight"] = 1 + n(d, sc=0.05)
    t["model.norm.weight"] = 1 + n(d, sc=0.05)
    t["lm_head.weight"] = n(v, d, sc=d ** -0.5)
    w = CLIP["width"]
    t.update({"model.mm_projector.0.weight": n(d, w, sc=w ** -0.5), "model.mm_projector.0.bias": n(d, sc=0.1),
              "model.mm_projector.2.weight": n(d, d, sc=d ** -0.5), "model.mm_projector.2.bias": n(d, sc=0.1)})
    tower = clip_tensors(rng, w, CLIP["layers"], CLIP["mlp"], CLIP["patch"], CLIP["size"])
    t.update({"model.vision_tower.vision_tower." + k: a for k, a in tower.items()})
    return t


def write_geochat(out, seed=14):
    import torch

    os.makedirs(out, exist_ok=True)
    t = geochat_tensors(np.random.default_rng(seed))
    # shard 1: embedding + the first half of the decoder; shard 2: the rest, head, projector and tower (as published)
    first = {k for k in t if k == "model.embed_tokens.weight" or
             (k.startswith("model.layers.") and int(k.split(".")[2]) < G["layers"] // 2)}
    names = ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]
    tower = lambda k: k.startswith("model.vision_tower.")  # noqa: E731
    total, weight_map = 0, {}
    for fname, keys in zip(names, (sorted(first), sorted(set(t) - first))):
        sd = {k: torch.from_numpy(t[k].astype(np.float32 if tower(k) else np.float16)) for k in keys}
        torch.save(sd, os.path.join(out, fname))
        total += sum(x.numel() * x.element_size() for x in sd.values())
        weight_map.update({k: fname for k in keys})
    files = {
        "config.json": geochat_config(),
        "generation_config.json": {"_from_model_config": True, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
                                   "transformers_version": "4.31.0"},
        "pytorch_model.bin.index.json": {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
        "special_tokens_map.json": {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<unk>", "unk_token": "<unk>"},
        "tokenizer_config.json": {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                                  "clean_up_tokenization_spaces": False, "legacy": False, "model_max_length": 2048,
                                  "pad_token": None, "padding_side": "right", "sp_model_kwargs": {},
                                  "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>"},
    }
    for name, obj in files.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
    shutil.copyfile(SP_MODEL, os.path.join(out, "tokenizer.model"))


def sam_h_spec():
    """segment_anything's state-dict names in order (the recorded upstream spec), the image encoder at SAM_H."""
    with open(SAM_SPEC) as f:
        upstream = json.load(f)["spec"]
    w, hd, g, win = SAM_H["width"], SAM_H["head_dim"], SAM_H["pos_grid"], SAM_H["window"]
    block0 = [(n[len("image_encoder.blocks.0."):], s) for n, s in upstream if n.startswith("image_encoder.blocks.0.")]

    def block_shape(leaf, shape, i):
        if leaf.startswith("attn.rel_pos_"):
            return [2 * (g if i in SAM_H["global"] else win) - 1, hd]
        sub = {768: w, 2304: 3 * w, 3072: 4 * w}  # ViT-B's width, qkv and MLP sizes in the recorded spec
        return [sub.get(x, x) for x in shape]

    spec = [["image_encoder.pos_embed", [1, g, g, w]], ["image_encoder.patch_embed.proj.weight", [w, 3, 16, 16]],
            ["image_encoder.patch_embed.proj.bias", [w]]]
    for i in range(SAM_H["depth"]):
        spec += [[f"image_encoder.blocks.{i}.{leaf}", block_shape(leaf, s, i)] for leaf, s in block0]
    for n, s in upstream:
        if n.startswith("image_encoder.neck."):
            spec.append([n, [w if x == 768 else x for x in s]])
        elif not n.startswith("image_encoder."):
            spec.append([n, s])
    return spec


def write_sam(path, seed=14):
    from sam_checkpoint import make_weights, write_checkpoint

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return write_checkpoint(make_weights(sam_h_spec(), seed), path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geochat", required=True, help="folder to write the fake geochat-7B checkpoint into")
    ap.add_argument("--sam", required=True, help="file to write the fake sam_vit_h_4b8939.pth to")
    a = ap.parse_args(argv)
    write_geochat(a.geochat)
    print(f"wrote {a.geochat}: " + ", ".join(sorted(os.listdir(a.geochat))))
    print(f"wrote {a.sam} (sha256 {write_sam(a.sam)})")


if __name__ == "__main__":
    main()
