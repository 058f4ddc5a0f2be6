#!/usr/bin/python3
"""Builds a Vantage model pack (contract v1, ../PACK_CONTRACT.md) from a config, with an int4 decoder.

  /usr/bin/python3 native-models/exporter/export_pack.py --config small --random-weights --out /tmp/small-int4
  /usr/bin/python3 native-models/exporter/export_pack.py --config tiny --checkpoint DIR --out /tmp/tiny-int4
  /usr/bin/python3 native-models/exporter/export_pack.py --config 7b-class --dry-run

embed + decoder are written with onnx.helper (decoder_graph.py): int4 MatMulNBits for every decoder linear layer
(block 32, per-block scales and packed zero points), fp32 norms / RoPE / attention / LM head. The other stages are
the reference modules of ../testpack/model.py exported with torch.onnx (fresh random weights), or copied from an
existing pack with --stages-from (the default for `tiny`: the trained test pack, whose architecture it is).
See README.md for what loads from real checkpoints.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TESTPACK = os.path.join(HERE, "..", "testpack")

from checkpoints import config_from_hf, load_llama, random_llama  # noqa: E402
from configs import CONFIGS, dry_run, sizes  # noqa: E402
from decoder_graph import build_decoder, build_embed, save  # noqa: E402
from sign_pack import sign_pack  # noqa: E402
from sp_tokenizer import checkpoint_tokenizer, with_pack_tokens  # noqa: E402

STAGES = ["vision", "prompt", "embed", "decoder", "grounding", "pixel"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def padded_tokenizer(vocab):
    """The test pack's word-level tokenizer with `<extra_k>` entries up to the model's vocabulary, so every id the
    decoder can emit decodes (random-weight packs emit any id)."""
    with open(os.path.join(TESTPACK, "pack", "tokenizer.json")) as f:
        tok = json.load(f)
    v = tok["model"]["vocab"]
    n = len(v)
    if vocab < n:
        raise SystemExit(f"vocab {vocab} is smaller than the test tokenizer's {n} entries")
    for i in range(n, vocab):
        v[f"<extra_{i}>"] = i
    return tok


def manifest_tokens(c):
    """The strings the pack's manifest (the test pack's `tokens`) needs the tokenizer to hold as single ids."""
    with open(os.path.join(TESTPACK, "pack", "manifest.json")) as f:
        t = json.load(f)["tokens"]
    geochat = c.get("region_format") == "geochat-box"
    if geochat:
        t = {**t, **geochat_chat()["tokens"]}
    regions = [] if geochat else [t["region"].replace("{k}", str(k)) for k in range(1, t["maxRegions"] + 1)]
    # GeoChat writes `<p> … </p>` as plain text (its tokenizer has no such tokens) and has no source tags
    phrases = [] if geochat else [t["phraseOpen"], t["phraseClose"]]
    tokens = [t["image"], *t["sources"].values(), t["seg"], *phrases, *t["stop"], t["pad"], *regions]
    return [s for s in tokens if s]


def geochat_chat():
    with open(os.path.join(HERE, "geochat_chat.json")) as f:
        return json.load(f)


def export_torch_stages(c, out, seed, stages, sam_checkpoint=None, seg_projection=None):
    """vision / prompt / grounding / pixel at config c (random weights; SAM image encoder from a checkpoint):
    model.py's tiny modules for the testpack-style configs, image_encoders.py's ViT-L / SAM ViT-B for 7b-class."""
    import torch

    sys.path.insert(0, TESTPACK)
    from image_encoders import SamEncoder, VitVision, load_sam_image_encoder
    from model import Grounding, Pixel, Prompt, Vision

    torch.manual_seed(seed)
    vision = None  # not built when not exported (LLaVA / GeoChat packs): a random ViT-L costs 1.2 GB and seconds
    if "vision" in stages:
        vision = VitVision(c) if c["vision"] == "vit-l14" else Vision(c)
    grounding = SamEncoder(c) if c["grounding"] == "sam-vit-b" else Grounding(c)
    if sam_checkpoint:
        if not isinstance(grounding, SamEncoder):
            raise SystemExit(f"--sam-checkpoint needs a SAM grounding config, not {c['grounding']}")
        load_sam_image_encoder(sam_checkpoint, grounding)
    pixel = Pixel(c)
    if sam_checkpoint and "pixel" in stages:  # SAM's prompt encoder + mask decoder (+ LISA's <SEG> projection)
        from sam_decoder import SamPixel, load_sam_pixel

        pixel = load_sam_pixel(sam_checkpoint, SamPixel(c), seg_projection)
    S, D = c["view_size"], c["hidden"]
    kw = dict(opset_version=14, do_constant_folding=True)
    import inspect

    if "dynamo" in inspect.signature(torch.onnx.export).parameters:  # torch >= 2.9 defaults to the dynamo exporter
        kw["dynamo"] = False

    def ex(module, args, name, ins, outs, dyn):
        if name not in stages:
            return
        torch.onnx.export(module.eval(), args, os.path.join(out, f"{name}.onnx"), input_names=ins,
                          output_names=outs, dynamic_axes=dyn, **kw)

    ex(vision, (torch.randn(2, 3, S, S),), "vision", ["pixel_values"], ["visual_tokens"],
       {"pixel_values": {0: "V"}, "visual_tokens": {0: "V"}})
    prompt = Prompt(c)
    if c.get("image_embeds_identity"):  # LLaVA-1.5 / GeoChat feed the projected CLIP tokens to the LLM unchanged
        prompt.img_proj = torch.nn.Identity()
    ex(prompt, (torch.randn(2, c["tokens"], D), torch.rand(3, S, S)), "prompt",
       ["visual_tokens", "region_masks"], ["image_embeds", "region_embeds"],
       {"visual_tokens": {0: "V"}, "region_masks": {0: "R"}, "image_embeds": {0: "VN"}, "region_embeds": {0: "R"}})
    G = c.get("g_size", S)  # the grounding stage's input side (manifest grounding.size; SAM: 1024)
    ex(grounding, (torch.randn(1, 3, G, G),), "grounding", ["pixel_values"], ["image_embeddings"], {})
    ex(pixel, (torch.randn(1, c["g_channels"], c["g_grid"], c["g_grid"]), torch.randn(1, D), torch.ones(1),
               torch.rand(1, 3, 2) * G, torch.tensor([[1.0, 0.0, -1.0]])), "pixel",
       ["image_embeddings", "seg_hidden", "has_seg", "points", "point_labels"], ["mask_logits", "score"],
       {"points": {1: "P"}, "point_labels": {1: "P"}})


def write_manifest(c, out, name, quant, stages, extra):
    with open(os.path.join(TESTPACK, "pack", "manifest.json")) as f:
        base = json.load(f)
    fb = 2 if extra["dtype"] == "float16" else 4
    block, sym = extra.get("block_size") or 32, bool(extra.get("symmetric"))
    s = sizes(c, quant, scale_bytes=fb, head_bytes=fb, zero_points=not sym, block=block)
    m = {k: base[k] for k in ("contract", "family", "sources", "modes", "tokens", "chat")}
    if c.get("region_format"):
        m["tokens"] = {**m["tokens"], "regionFormat": c["region_format"]}
    if c.get("region_format") == "geochat-box":  # GeoChat's own conversation template (fidelity/tok_geochat_template.py)
        g = geochat_chat()
        m["tokens"], m["chat"] = {**m["tokens"], **g["tokens"]}, g["chat"]
    m.update({
        "name": name, "version": "0.1.0",
        "licence": extra.get("licence", "random weights (speed runs); no third-party data"),
        "description": extra.get("description", f"Vantage exporter pack, config {extra['config']}"),
        "quantisation": f"int4-weight-only (MatMulNBits, block {block}, {'symmetric' if sym else 'asymmetric'})" if quant == "int4" else "fp32",
        "expectedVramMB": int((s["decoderFileBytes"] + c["max_context"] * s["kvBytesPerContextToken"]) / 2**20) + 64,
        "view": {**base["view"], "size": c["view_size"], "tokens": c["tokens"],
                 **{k: c["view_" + k] for k in ("mean", "std", "resample", "pad", "maxViews") if "view_" + k in c}},
        "grounding": {**base["grounding"], "channels": c["g_channels"], "grid": c["g_grid"],
                      **({"size": c["g_size"]} if c.get("g_size", c["view_size"]) != c["view_size"] else {}),
                      **({"preprocess": c["grounding_preprocess"]} if c.get("grounding_preprocess") else {})},
        "pixel": {"maskSize": c["mask_size"], **({"segHidden": c["seg_hidden"]} if c.get("seg_hidden") else {})},
        "llm": {"hidden": c["hidden"], "layers": c["layers"], "heads": c["heads"], "kvHeads": c["kv_heads"],
                "headDim": c["head_dim"], "vocab": c["vocab"], "maxContext": c["max_context"],
                **({"lastRowLogits": True} if extra.get("last_logits") else {}),
                # GroupQueryAttention decoders take a fixed-capacity cache with a zero-padded mask (in place)
                **({"staticKvCache": True} if extra["attention"] == "gqa" else {})},
        "stages": {st: {"file": f"{st}.onnx", "sha256": sha256(os.path.join(out, f"{st}.onnx")),
                        "dtype": extra["dtype"] if st in ("embed", "decoder") else "float32"} for st in stages},
        "files": {"tokenizer.json": sha256(os.path.join(out, "tokenizer.json"))},
        # read by native-models/bench/gpuBench.ts for the bytes-per-token limit; ignored by the app
        "exporter": {"config": extra["config"], "weights": extra["weights"], "attention": extra["attention"],
                     "intermediate": c["intermediate"],
                     "linears": quant, "scaleBytes": fb, "denseBytes": fb,
                     "kvBytes": 2 if extra.get("kv_dtype") == "float16" else fb,
                     **({"accuracyLevel": extra["accuracy_level"]} if extra.get("accuracy_level") else {}),
                     **({"blockSize": block} if block != 32 else {}), **({"zeroPoints": False} if sym else {}),
                     **({"kvDtype": extra["kv_dtype"]} if extra.get("kv_dtype") else {})},
    })
    if extra.get("licences"):  # a mixed pack: each part's licence and stages (PACK_CONTRACT.md `licences`)
        m["licences"] = extra["licences"]
    for st in stages:  # weights beside a >2 GiB graph are part of the pack too
        data = os.path.join(out, f"{st}.onnx.data")
        if os.path.exists(data):
            m["files"][f"{st}.onnx.data"] = sha256(data)
    # byte size of every listed file (PACK_CONTRACT.md "Installing packs": a .zip entry is inflated only up to it)
    m["sizes"] = {n: os.path.getsize(os.path.join(out, n)) for n in [e["file"] for e in m["stages"].values()] + list(m["files"])}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--out", help="pack folder to write")
    ap.add_argument("--quant", choices=["int4", "fp32"], default="int4")
    ap.add_argument("--attention", choices=["matmul", "gqa"], default="matmul",
                    help="decoder attention: plain ONNX ops, or com.microsoft GroupQueryAttention (the GPU path)")
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                    help="embed + decoder float type (float16 for GPU packs: fp16 scales, head, KV cache)")
    ap.add_argument("--accuracy-level", type=int, choices=[0, 1, 2, 3, 4], default=0,
                    help="MatMulNBits accuracy_level (4: int8 activations and integer dot products on CPU; lower "
                    "precision, see README 'Pack options')")
    ap.add_argument("--last-logits", action="store_true",
                    help="decoder `logits` holds the last row only (prefill computes the LM head once; manifest "
                    "llm.lastRowLogits)")
    ap.add_argument("--block-size", type=int, choices=[32, 64, 128], default=32,
                    help="MatMulNBits block size along K (64/128: fewer scale bytes read per token, lower precision)")
    ap.add_argument("--symmetric", action="store_true",
                    help="int4 without zero points (llama.cpp's Q4_0 rule, quant.py; lower precision)")
    ap.add_argument("--kv-dtype", choices=["float16"], help="fp16 KV cache in a float32 GQA decoder (lower precision)")
    ap.add_argument("--checkpoint", help="HF LLaMA-layout folder (config.json + safetensors/bin) for embed+decoder")
    ap.add_argument("--random-weights", action="store_true", help="random weights (speed runs)")
    ap.add_argument("--sam-checkpoint", help="segment_anything .pth: image_encoder.* -> grounding, prompt_encoder.* + "
                    "mask_decoder.* -> pixel")
    ap.add_argument("--seg-projection", help="LISA/GeoPixel checkpoint file holding text_hidden_fcs (the <SEG> "
                    "projection of the SAM pixel stage; .bin/.pth/.safetensors)")
    ap.add_argument("--vision-tower", metavar="CLIP_DIR", help="LLaVA-1.5 / GeoChat vision stage: HF CLIP folder (or "
                    "`checkpoint`: the tower inside --checkpoint) + the mm_projector of --checkpoint (llava_vision.py)")
    ap.add_argument("--stages-from", help="copy vision/prompt/grounding/pixel from this pack instead of exporting")
    ap.add_argument("--only", help="comma list of stages to write (e.g. decoder) — for fixtures")
    ap.add_argument("--dry-run", action="store_true", help="print sizes and expected VRAM, write nothing")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sign-key", metavar="KEY", help="sign the finished pack with this Ed25519 private key (writes "
                    "manifest.sig through `vantage packs sign`; make one with `vantage packs keygen KEY`)")
    ap.add_argument("--name", help="pack name in the manifest (default vantage-CONFIG-QUANT…)")
    ap.add_argument("--licence", help="the manifest's one-line licence summary")
    ap.add_argument("--licence-part", action="append", metavar="PART:LICENCE:STAGES", default=[],
                    help="one part of a mixed pack, e.g. 'SAM ViT-H:Apache-2.0:grounding,pixel' (repeat per part; "
                    "manifest `licences`, PACK_CONTRACT.md)")
    a = ap.parse_args(argv)
    parts = []
    for spec in a.licence_part:
        bits = spec.rsplit(":", 2)
        if len(bits) != 3 or not all(b.strip() for b in bits):
            ap.error(f"--licence-part {spec!r}: expected PART:LICENCE:STAGE,STAGE")
        bad = [st for st in bits[2].split(",") if st not in STAGES]
        if bad:
            ap.error(f"--licence-part {spec!r}: unknown stage(s) {', '.join(bad)} (stages: {', '.join(STAGES)})")
        parts.append({"part": bits[0].strip(), "licence": bits[1].strip(), "stages": bits[2].split(",")})
    if a.sign_key and not os.path.isfile(a.sign_key):
        ap.error(f"--sign-key: no key file at {a.sign_key}")

    c = dict(CONFIGS[a.config])
    if a.checkpoint:
        c = config_from_hf(a.checkpoint, c)
    text, _ = dry_run(c, a.config)
    print(text)
    if a.dry_run:
        return
    if not a.out:
        ap.error("--out is required unless --dry-run")
    if not a.checkpoint and not a.random_weights:
        ap.error("give --checkpoint DIR or --random-weights")
    only = a.only.split(",") if a.only else STAGES
    vis = None
    if a.vision_tower:  # CLIP tower + mm_projector; the pack's view becomes CLIP's (336 px / 576 tokens; GeoChat 504 / 1296)
        if not a.checkpoint:
            ap.error("--vision-tower needs --checkpoint LLAVA_DIR (the mm_projector is in it)")
        from llava_vision import load_llava_vision

        vis = load_llava_vision(None if a.vision_tower == "checkpoint" else a.vision_tower, a.checkpoint)
        c.update(view_size=vis.cfg["image_size"], tokens=vis.cfg["tokens"], view_mean=vis.cfg["mean"], view_std=vis.cfg["std"])
        # CLIPImageProcessor's Pillow bicubic; LLaVA-1.5 / GeoChat (image_aspect_ratio "pad") pad to a square first
        c.update(view_resample="bicubic", view_pad=vis.cfg["pad"])
        c["view_maxViews"] = 1  # process_images gives one view per image: no sub-image grid
        c["image_embeds_identity"] = True  # the `prompt` stage passes the visual tokens through (no model.py MLP)
        if vis.cfg.get("geochat"):  # GeoChat reads regions as box text, not embeddings (PACK_CONTRACT.md "Region format")
            c["region_format"] = "geochat-box"
    if a.sam_checkpoint and c.get("grounding") == "sam-vit-b":
        # ViT-B/L/H: the encoder's width, depth, heads, global blocks and input side read from the checkpoint's own
        # tensors: SAM runs at its own 1024 px (grid 64) whatever the vision tower's view (GeoChat's 504)
        from checkpoints import sam_encoder_geometry

        c.update(sam_encoder_geometry(a.sam_checkpoint))
        c["g_grid"] = c["g_size"] // c["g_patch"]
    if a.sam_checkpoint:
        c["mask_size"] = 4 * c["g_grid"]  # SAM's low-resolution mask: 4x the embedding grid
        # instant masks get SamPredictor.set_image's input (resize longest side + pad; PACK_CONTRACT.md "Instant masks")
        c["grounding_preprocess"] = "sam"
        # LISA / GeoPixel train the <SEG> projection on the row that predicts <SEG> (hidden[input_ids[:, 1:] == SEG])
        c["seg_hidden"] = "predicting"
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    # the checkpoint's own tokenizer (tokenizer.json, or tokenizer.model converted by sp_tokenizer.py) plus the tokens
    # the manifest needs as single ids; the test configs' fake checkpoints carry none: the padded test tokenizer
    # (--only writes stages for fixtures and speed runs: no tokenizer, no extra embed rows)
    tokenizer = checkpoint_tokenizer(a.checkpoint) if a.checkpoint and not a.only else None
    added = with_pack_tokens(tokenizer, manifest_tokens(c)) if tokenizer is not None else []

    if a.checkpoint:
        weights = load_llama(a.checkpoint, c)
    elif a.quant == "int4" and c["hidden"] >= 2048:
        weights = None  # packed random int4 directly: a 7B fp32 copy would need 28 GB of host memory
    else:
        weights = random_llama(c, rng)
    if "decoder" in only:
        save(build_decoder(c, weights, a.quant, rng, a.attention, a.dtype, a.accuracy_level, a.last_logits, a.kv_dtype,
                             a.block_size, a.symmetric),
             os.path.join(a.out, "decoder.onnx"))
    if "embed" in only:
        table = weights["embed"] if weights else rng.standard_normal((c["vocab"], c["hidden"]), dtype=np.float32) * 0.02
        if added:  # zero rows for the added ids (replaced by image/region rows or plain markup)
            table = np.concatenate([table, np.zeros((max(0, added[-1][1] + 1 - len(table)), table.shape[1]), table.dtype)])
        save(build_embed(c, table, a.dtype), os.path.join(a.out, "embed.onnx"))
    others = [s for s in ("vision", "prompt", "grounding", "pixel") if s in only]
    if vis and "vision" in others:
        from llava_vision import export_vision

        export_vision(vis, os.path.join(a.out, "vision.onnx"))
        others.remove("vision")
    src = a.stages_from or (os.path.join(TESTPACK, "pack") if c.get("vision") == "testpack" and a.config == "tiny" else None)
    if others and src:
        for st in others:
            shutil.copyfile(os.path.join(src, f"{st}.onnx"), os.path.join(a.out, f"{st}.onnx"))
    elif others:
        export_torch_stages(c, a.out, a.seed, others, a.sam_checkpoint, a.seg_projection)
    if a.only:
        return  # partial output (fixtures / speed runs) gets no manifest unless every contract stage is present
    with open(os.path.join(a.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer if tokenizer is not None else padded_tokenizer(c["vocab"]), f, ensure_ascii=False)
    name = f"vantage-{a.config}-{a.quant}" + ("-gqa" if a.attention == "gqa" else "") + ("-fp16" if a.dtype == "float16" else "")
    name += (f"-acc{a.accuracy_level}" if a.accuracy_level else "") + ("-last" if a.last_logits else "") + \
        ("-kv16" if a.kv_dtype == "float16" and a.dtype != "float16" else "") + \
        (f"-b{a.block_size}" if a.block_size != 32 else "") + ("-sym" if a.symmetric else "")
    name = a.name or name
    write_manifest(c, a.out, name, a.quant, STAGES,
                   {"config": a.config, "weights": os.path.basename(os.path.normpath(a.checkpoint)) if a.checkpoint else "random",
                    "attention": a.attention, "dtype": a.dtype, "accuracy_level": a.accuracy_level,
                    "last_logits": a.last_logits, "kv_dtype": a.kv_dtype, "block_size": a.block_size,
                    "symmetric": a.symmetric,
                    **({"licence": a.licence} if a.licence else {}), **({"licences": parts} if parts else {})})
    print(f"wrote {a.out}")
    if a.sign_key:
        sign_pack(a.out, a.sign_key)


if __name__ == "__main__":
    main()
