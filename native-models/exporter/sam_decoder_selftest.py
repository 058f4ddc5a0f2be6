#!/usr/bin/python3
"""SAM pixel stage (sam_decoder.py) on a tiny FAKE segment_anything checkpoint, for samDecoder.int.test.ts.

The checkpoint is written from a hand-made list of segment_anything's tensor names and shapes (transformer_dim 32,
2 heads, MLP 64, IoU head 24 wide, 4 mask tokens; plus `image_encoder.*` and the unused
`prompt_encoder.mask_downscaling.*`), not from SamPixel's own state dict. Checked (exit 1 on failure):
- load_sam_pixel + SamPixel equal an independent functional reference written from the raw tensors, which builds
  SAM's sparse prompt list literally (SamPredictor: points + its padding point when there is no box, box corners
  from _embed_boxes; LISA: the projected <SEG> appended) — all 4 mask tokens and IoUs, <= 1e-5, for a point, a box,
  fg + bg points with caller padding, <SEG> only, a point + <SEG>, a box + a point;
- has_seg = 0 ignores seg_hidden exactly (bitwise, even NaN) and equals SAM without the token;
- the <SEG> projection loads from LISA's layout (`model.text_hidden_fcs.0.*`, bf16 .bin), the bare layout (fp16
  .safetensors) and a LISA-style single file (SAM under `model.visual_model.`);
- missing / mis-shaped / unexpected tensors are refused by name.
Then export_pack.export_torch_stages (the --sam-checkpoint path) writes OUT/grounding.onnx (SamEncoder) +
OUT/pixel.onnx at the test pack's geometry (S 64, C 32, g 16, D 64), and OUT/sam_pixel.json holds the cases' inputs
and PyTorch outputs.
"""
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checkpoints import write_safetensors  # noqa: E402
from configs import CONFIGS  # noqa: E402
from export_pack import export_torch_stages  # noqa: E402
from image_encoders import SamEncoder  # noqa: E402
from sam_decoder import SamPixel, load_sam_pixel  # noqa: E402

C, HEADS, MLP_DIM, IOU_H, NMASK, G, S, D = 32, 2, 64, 24, 4, 16, 64, 64
TOY = {**CONFIGS["tiny"], "grounding": "sam-vit-b", "g_channels": C, "g_grid": G, "view_size": S, "hidden": D,
       "p_heads": HEADS, "p_mlp": MLP_DIM, "p_iou_hidden": IOU_H,
       "g_patch": 4, "g_width": 32, "g_heads": 2, "g_layers": 2, "g_window": 4, "g_global": [1]}


# ------------------------------------------------------------------------------------ fake checkpoint (by hand)
def sam_shapes():
    s = {"prompt_encoder.pe_layer.positional_encoding_gaussian_matrix": (2, C // 2),
         "prompt_encoder.not_a_point_embed.weight": (1, C), "prompt_encoder.no_mask_embed.weight": (1, C)}
    for i in range(4):
        s[f"prompt_encoder.point_embeddings.{i}.weight"] = (1, C)
    md = "prompt_encoder.mask_downscaling."  # SAM's mask-prompt path (mask_in_chans 16): present, unused
    s.update({md + "0.weight": (4, 1, 2, 2), md + "0.bias": (4,), md + "1.weight": (4,), md + "1.bias": (4,),
              md + "3.weight": (16, 4, 2, 2), md + "3.bias": (16,), md + "4.weight": (16,), md + "4.bias": (16,),
              md + "6.weight": (C, 16, 1, 1), md + "6.bias": (C,)})

    def attn(p, down):
        i = C // down
        for n in ("q", "k", "v"):
            s[f"{p}{n}_proj.weight"], s[f"{p}{n}_proj.bias"] = (i, C), (i,)
        s[p + "out_proj.weight"], s[p + "out_proj.bias"] = (C, i), (C,)

    def norm(p):
        s[p + ".weight"], s[p + ".bias"] = (C,), (C,)

    t = "mask_decoder.transformer."
    for layer in range(2):
        p = f"{t}layers.{layer}."
        attn(p + "self_attn.", 1)
        attn(p + "cross_attn_token_to_image.", 2)
        attn(p + "cross_attn_image_to_token.", 2)
        for n in ("norm1", "norm2", "norm3", "norm4"):
            norm(p + n)
        s.update({p + "mlp.lin1.weight": (MLP_DIM, C), p + "mlp.lin1.bias": (MLP_DIM,),
                  p + "mlp.lin2.weight": (C, MLP_DIM), p + "mlp.lin2.bias": (C,)})
    attn(t + "final_attn_token_to_image.", 2)
    norm(t + "norm_final_attn")
    m = "mask_decoder."
    s.update({m + "iou_token.weight": (1, C), m + "mask_tokens.weight": (NMASK, C),
              m + "output_upscaling.0.weight": (C, C // 4, 2, 2), m + "output_upscaling.0.bias": (C // 4,),
              m + "output_upscaling.1.weight": (C // 4,), m + "output_upscaling.1.bias": (C // 4,),
              m + "output_upscaling.3.weight": (C // 4, C // 8, 2, 2), m + "output_upscaling.3.bias": (C // 8,)})
    for i in range(NMASK):
        for j, (o, n) in enumerate([(C, C), (C, C), (C // 8, C)]):
            s[f"{m}output_hypernetworks_mlps.{i}.layers.{j}.weight"] = (o, n)
            s[f"{m}output_hypernetworks_mlps.{i}.layers.{j}.bias"] = (o,)
    for j, (o, n) in enumerate([(IOU_H, C), (IOU_H, IOU_H), (NMASK, IOU_H)]):
        s[f"{m}iou_prediction_head.layers.{j}.weight"], s[f"{m}iou_prediction_head.layers.{j}.bias"] = (o, n), (o,)
    return s


def fill(shapes, gen):
    out = {}
    for k, shp in shapes.items():
        x = torch.randn(*shp, generator=gen)
        if k.endswith("gaussian_matrix"):
            v = x  # SAM: scale 1
        elif len(shp) == 1 and ("norm" in k or "upscaling.1" in k or "downscaling.1" in k or "downscaling.4" in k) \
                and k.endswith(".weight"):
            v = 1 + 0.2 * x
        elif len(shp) == 1:
            v = 0.1 * x
        elif k.endswith("embed.weight") or "point_embeddings" in k or k.endswith(("iou_token.weight", "tokens.weight")):
            v = x
        else:
            v = x / math.sqrt(np.prod(shp[1:]))
        out[k] = v
    out["mask_decoder.iou_prediction_head.layers.2.bias"] = torch.full((NMASK,), 0.5)  # scores mostly inside 0..1
    out["mask_decoder.iou_prediction_head.layers.2.weight"] *= 0.2
    return out


def seg_tensors(gen):
    return {"text_hidden_fcs.0.0.weight": torch.randn(D, D, generator=gen) / math.sqrt(D),
            "text_hidden_fcs.0.0.bias": 0.1 * torch.randn(D, generator=gen),
            "text_hidden_fcs.0.2.weight": torch.randn(C, D, generator=gen) / math.sqrt(D),
            "text_hidden_fcs.0.2.bias": 0.1 * torch.randn(C, generator=gen)}


# ----------------------------------------------------------------------------- independent functional reference
def ref_sam(sd, fcs, image, points=None, labels=None, box=None, seg_hidden=None):
    """segment_anything's Sam prompt path + MaskDecoder.predict_masks from raw tensors, no SamPixel code.
    points/labels: SamPredictor's point prompt (python lists), box: (x0, y0, x1, y1), seg_hidden: LISA's text embed."""
    w = lambda k: sd[k].float()  # noqa: E731
    gm = w("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix")

    def pe(coords):  # PositionEmbeddingRandom._pe_encoding
        c = 2 * np.pi * ((2 * coords - 1) @ gm)
        return torch.cat([torch.sin(c), torch.cos(c)], dim=-1)

    sparse = []
    if points is not None:  # PromptEncoder._embed_points(pad=(boxes is None))
        coords, labs = torch.tensor(points, dtype=torch.float32) + 0.5, list(labels)
        if box is None:
            coords, labs = torch.cat([coords, torch.zeros(1, 2)]), labs + [-1]
        e = pe(coords / S)
        for i, lab in enumerate(labs):
            e[i] = w("prompt_encoder.not_a_point_embed.weight")[0] if lab == -1 else \
                e[i] + w(f"prompt_encoder.point_embeddings.{lab}.weight")[0]
        sparse.append(e)
    if box is not None:  # _embed_boxes
        e = pe((torch.tensor(box, dtype=torch.float32).reshape(2, 2) + 0.5) / S)
        e[0] += w("prompt_encoder.point_embeddings.2.weight")[0]
        e[1] += w("prompt_encoder.point_embeddings.3.weight")[0]
        sparse.append(e)
    if seg_hidden is not None:  # LISA: text_hidden_fcs[0](h), appended after points/boxes
        h = F.linear(F.relu(F.linear(seg_hidden, fcs["text_hidden_fcs.0.0.weight"].float(),
                                     fcs["text_hidden_fcs.0.0.bias"].float())),
                     fcs["text_hidden_fcs.0.2.weight"].float(), fcs["text_hidden_fcs.0.2.bias"].float())
        sparse.append(h.reshape(1, C))
    sparse = torch.cat(sparse) if sparse else torch.zeros(0, C)

    grid = torch.ones(G, G)  # PositionEmbeddingRandom.forward
    y = (grid.cumsum(0) - 0.5) / G
    x = (grid.cumsum(1) - 0.5) / G
    image_pe = pe(torch.stack([x, y], dim=-1)).reshape(G * G, C)

    tokens = torch.cat([w("mask_decoder.iou_token.weight"), w("mask_decoder.mask_tokens.weight"), sparse])
    src = (image[0] + w("prompt_encoder.no_mask_embed.weight").reshape(C, 1, 1)).reshape(C, G * G).T  # [HW, C]

    def lin(p, t):
        return F.linear(t, w(p + ".weight"), w(p + ".bias"))

    def ln(p, t):
        return F.layer_norm(t, (C,), w(p + ".weight"), w(p + ".bias"), 1e-5)

    def att(p, q, k, v):
        q, k, v = lin(p + "q_proj", q), lin(p + "k_proj", k), lin(p + "v_proj", v)
        hd = q.shape[1] // HEADS
        outs = []
        for h in range(HEADS):
            sl = slice(h * hd, (h + 1) * hd)
            a = torch.softmax(q[:, sl] @ k[:, sl].T / math.sqrt(hd), dim=-1)
            outs.append(a @ v[:, sl])
        return lin(p + "out_proj", torch.cat(outs, dim=1))

    t = "mask_decoder.transformer."
    qs, ks = tokens, src
    for layer in range(2):
        p = f"{t}layers.{layer}."
        if layer == 0:  # skip_first_layer_pe: no residual, no PE
            qs = att(p + "self_attn.", qs, qs, qs)
        else:
            qs = qs + att(p + "self_attn.", qs + tokens, qs + tokens, qs)
        qs = ln(p + "norm1", qs)
        qs = ln(p + "norm2", qs + att(p + "cross_attn_token_to_image.", qs + tokens, ks + image_pe, ks))
        qs = ln(p + "norm3", qs + lin(p + "mlp.lin2", F.relu(lin(p + "mlp.lin1", qs))))
        ks = ln(p + "norm4", ks + att(p + "cross_attn_image_to_token.", ks + image_pe, qs + tokens, qs))
    qs = ln(t + "norm_final_attn", qs + att(t + "final_attn_token_to_image.", qs + tokens, ks + image_pe, ks))

    m = "mask_decoder."
    up = F.conv_transpose2d(ks.T.reshape(1, C, G, G), w(m + "output_upscaling.0.weight"), w(m + "output_upscaling.0.bias"),
                            stride=2)
    u, var = up.mean(1, keepdim=True), (up - up.mean(1, keepdim=True)).pow(2).mean(1, keepdim=True)
    up = (up - u) / torch.sqrt(var + 1e-6) * w(m + "output_upscaling.1.weight").reshape(1, -1, 1, 1) \
        + w(m + "output_upscaling.1.bias").reshape(1, -1, 1, 1)
    up = F.gelu(F.conv_transpose2d(F.gelu(up), w(m + "output_upscaling.3.weight"), w(m + "output_upscaling.3.bias"),
                                   stride=2))  # [1, C/8, 4G, 4G]

    def mlp3(p, t):
        return lin(p + ".layers.2", F.relu(lin(p + ".layers.1", F.relu(lin(p + ".layers.0", t)))))

    hyper = torch.stack([mlp3(f"{m}output_hypernetworks_mlps.{i}", qs[1 + i]) for i in range(NMASK)])  # [M, C/8]
    masks = (hyper @ up.reshape(C // 8, -1)).reshape(1, NMASK, 4 * G, 4 * G)
    return masks, mlp3(m + "iou_prediction_head", qs[0]).reshape(1, NMASK)


# ---------------------------------------------------------------------------------------------------- checks
def expect_refusal(fn, needle, what):
    try:
        fn()
    except SystemExit as e:
        assert needle in str(e), f"{what}: message {e!s} does not name {needle}"
        print(f"  refused ({what}): {e}")
        return
    raise AssertionError(f"{what}: not refused")


def main(out):
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(7)
    sam = fill(sam_shapes(), gen)
    enc = SamEncoder(TOY)  # image_encoder.* as in encoder_parity.py (the grounding stage from the same file)
    for k, v in enc.state_dict().items():
        sam["image_encoder." + k] = torch.randn(v.shape, generator=gen) * 0.2 + (1.0 if k.endswith("norm1.weight") else 0.0)
    fcs = seg_tensors(gen)
    tmp = tempfile.mkdtemp()
    try:
        run(out, gen, sam, fcs, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(out, gen, sam, fcs, tmp):
    sam_path = os.path.join(out, "sam_fake.pth")
    torch.save(sam, sam_path)
    lisa_bin = os.path.join(tmp, "lisa_fcs.bin")  # LISA layout, bf16 (how LISA/GeoPixel train and save)
    torch.save({**{"model." + k: v.to(torch.bfloat16) for k, v in fcs.items()},
                "model.embed_tokens.weight": torch.zeros(3, D, dtype=torch.bfloat16)}, lisa_bin)
    fcs = {k: v.to(torch.bfloat16).float() for k, v in fcs.items()}  # the values the checkpoint really holds
    bare_st = os.path.join(tmp, "fcs.safetensors")  # bare layout, fp16 safetensors
    write_safetensors(bare_st, {k: v.numpy().astype(np.float16) for k, v in fcs.items()})

    m = load_sam_pixel(sam_path, SamPixel(TOY), lisa_bin).eval()
    assert torch.equal(m.mask_decoder.transformer.layers[1].cross_attn_image_to_token.q_proj.weight,
                       sam["mask_decoder.transformer.layers.1.cross_attn_image_to_token.q_proj.weight"])
    assert torch.equal(m.text_hidden_fcs[0][2].weight, fcs["text_hidden_fcs.0.2.weight"])

    image = torch.randn(1, C, G, G, generator=gen)
    hid = torch.randn(1, D, generator=gen)
    p1, bg = [40.0, 22.5], [10.0, 50.0]
    bx = [12.0, 8.0, 47.0, 41.0]
    # (name, module inputs: points, labels, has_seg; reference kwargs)
    cases = [
        ("point", [p1], [1], 0, dict(points=[p1], labels=[1])),
        ("box", [bx[:2], bx[2:]], [2, 3], 0, dict(box=bx)),
        ("fg+bg+padding", [p1, bg, [0, 0]], [1, 0, -1], 0, dict(points=[p1, bg], labels=[1, 0])),
        ("seg only", [[0, 0]], [-1], 1, dict(seg_hidden=hid)),
        ("point+seg", [p1], [1], 1, dict(points=[p1], labels=[1], seg_hidden=hid)),
        ("box+point", [bx[:2], bx[2:], bg], [2, 3, 0], 0, dict(points=[bg], labels=[0], box=bx)),
    ]
    rows, worst = [], 0.0
    with torch.no_grad():
        for name, pts, labs, has, rk in cases:
            args = (image, hid, torch.tensor([float(has)]), torch.tensor([pts], dtype=torch.float32),
                    torch.tensor([labs], dtype=torch.float32))
            masks, iou = m.predict(*args)
            rm, ri = ref_sam(sam, fcs, image, **rk)
            err = max((masks - rm).abs().max().item(), (iou - ri).abs().max().item())
            worst = max(worst, err)
            assert err <= 1e-5, f"{name}: module vs reference {err}"
            mask, score = m(*args)
            assert torch.equal(mask, masks[:, :1]) and torch.equal(score, iou[:, 0].clamp(0, 1))
            rows.append({"name": name, "points": pts, "labels": labs, "hasSeg": has,
                         "maskLogits": mask.reshape(-1).tolist(), "score": score.item(),
                         "fgFraction": (mask > 0).float().mean().item()})
            print(f"  {name}: max |module - reference| {err:.2e}, score {score.item():.4f}, "
                  f"mask > 0 on {(mask > 0).float().mean().item():.3f}")

        # has_seg = 0 ignores seg_hidden exactly
        base = (image, torch.tensor([0.0]), torch.tensor([[p1]]), torch.tensor([[1.0]]))
        a = m(base[0], hid, *base[1:])
        b = m(base[0], torch.randn(1, D, generator=gen) * 50, *base[1:])
        c = m(base[0], torch.full((1, D), float("nan")), *base[1:])
        assert all(torch.equal(x, y) for x, y in zip(a, b)) and all(torch.equal(x, y) for x, y in zip(a, c)), \
            "has_seg = 0 must ignore seg_hidden"
        on = m(base[0], hid, torch.tensor([1.0]), *base[2:])
        gap = (on[0] - a[0]).abs().max().item()
        assert gap > 1e-2, f"has_seg = 1 must change the mask (gap {gap})"
        print(f"  has_seg = 0: identical for three seg_hidden (one NaN); has_seg = 1 moves logits by up to {gap:.3f}")

    # the <SEG> projection from other layouts, and a LISA-style single file
    m2 = load_sam_pixel(sam_path, SamPixel(TOY), bare_st)
    assert torch.equal(m2.text_hidden_fcs[0][0].weight, fcs["text_hidden_fcs.0.0.weight"].half().float())
    lisa_all = os.path.join(tmp, "lisa_all.pth")
    torch.save({**{"model.visual_model." + k: v for k, v in sam.items()}, **{"model." + k: v for k, v in fcs.items()}},
               lisa_all)
    m3 = load_sam_pixel(lisa_all, SamPixel(TOY))
    assert all(torch.equal(x, y) for x, y in zip(m3.state_dict().values(), m.state_dict().values())), "LISA single file"
    m4 = load_sam_pixel(sam_path, SamPixel(TOY))  # no projection anywhere: random, said so
    assert torch.equal(m4.mask_decoder.iou_token.weight, m.mask_decoder.iou_token.weight)

    # refusals, by name
    def variant(fn, name):
        sd = dict(sam)
        fn(sd)
        p = os.path.join(tmp, name)
        torch.save(sd, p)
        return p

    miss = "mask_decoder.transformer.layers.1.norm4.weight"
    expect_refusal(lambda: load_sam_pixel(variant(lambda sd: sd.pop(miss), "miss.pth"), SamPixel(TOY)), miss, "missing")
    bad = "mask_decoder.iou_prediction_head.layers.2.weight"
    expect_refusal(lambda: load_sam_pixel(variant(lambda sd: sd.update({bad: torch.zeros(NMASK + 1, IOU_H)}), "bad.pth"),
                                          SamPixel(TOY)), bad, "mis-shaped")
    expect_refusal(lambda: load_sam_pixel(variant(lambda sd: sd.update({"mask_decoder.extra.weight": torch.zeros(1)}),
                                                  "extra.pth"), SamPixel(TOY)), "mask_decoder.extra.weight", "unexpected")
    expect_refusal(lambda: load_sam_pixel(sam_path, SamPixel({**TOY, "g_channels": 64})),
                   "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", "other transformer_dim")
    enc_only = os.path.join(tmp, "enc.pth")
    torch.save({k: v for k, v in sam.items() if k.startswith("image_encoder.")}, enc_only)
    expect_refusal(lambda: load_sam_pixel(enc_only, SamPixel(TOY)), "mask_decoder.iou_token.weight", "not SAM")
    fmiss = os.path.join(tmp, "fmiss.pth")
    torch.save({"model." + k: v for k, v in fcs.items() if k != "text_hidden_fcs.0.2.bias"}, fmiss)
    expect_refusal(lambda: load_sam_pixel(sam_path, SamPixel(TOY), fmiss), "text_hidden_fcs.0.2.bias", "seg missing")
    fbad = os.path.join(tmp, "fbad.pth")
    torch.save({**{"model." + k: v for k, v in fcs.items()}, "model.text_hidden_fcs.0.0.weight": torch.zeros(D, D + 1)},
               fbad)
    expect_refusal(lambda: load_sam_pixel(sam_path, SamPixel(TOY), fbad), "text_hidden_fcs.0.0.weight", "seg mis-shaped")
    expect_refusal(lambda: load_sam_pixel(sam_path, SamPixel(TOY), enc_only), "text_hidden_fcs.0.0.weight",
                   "seg projection file without it")

    # export through the CLI's path (--sam-checkpoint + --seg-projection): SamEncoder grounding + SamPixel pixel
    export_torch_stages(TOY, out, 0, ["grounding", "pixel"], sam_path, lisa_bin)
    with open(os.path.join(out, "sam_pixel.json"), "w") as f:
        json.dump({"C": C, "G": G, "D": D, "mask": 4 * G, "image": image.reshape(-1).tolist(),
                   "segHidden": hid.reshape(-1).tolist(), "cases": rows, "worstReference": worst}, f)
    print(f"sam pixel: module = functional reference (worst {worst:.2e}); refusals by name; exported to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
