#!/usr/bin/python3
"""Parity material for the full-size image stages at toy widths (image_encoders.py):

- a fake segment_anything checkpoint (OUT/sam_fake.pth: `image_encoder.*` at a 16x16 grid with non-zero
  relative-position tables, plus `prompt_encoder.*` / `mask_decoder.*` entries that must be ignored) is loaded
  into a SamEncoder at an 8x8 grid (pos_embed resized, rel-pos resized in forward) and exported as grounding.onnx;
- the same checkpoint into a SamEncoder at a 10x10 grid, not a multiple of its 4-wide window (SAM's padding path,
  as 336 px views need: grid 21, window 14), exported as grounding_padded.onnx;
- a VitVision tower (2x2 merge + projector) is exported as vision.onnx.
Writes OUT/{grounding,grounding_padded,vision}.onnx and OUT/encoders.json (inputs and PyTorch outputs) for exporter.int.test.ts.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from image_encoders import SamEncoder, VitVision, load_sam_image_encoder  # noqa: E402

TOY = {"view_size": 64, "g_patch": 8, "g_width": 32, "g_heads": 2, "g_layers": 3, "g_window": 4, "g_global": [1],
       "g_channels": 16, "patch": 4, "vision_width": 32, "vision_heads": 2, "vision_mlp": 64, "vision_layers": 2,
       "hidden": 48}


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)
    src = SamEncoder({**TOY, "view_size": 128})  # the "checkpoint resolution": 16x16 grid
    sd = {}
    for k, v in src.state_dict().items():
        sd["image_encoder." + k] = torch.randn_like(v) * 0.2 + (1.0 if k.endswith("norm1.weight") else 0.0)
    sd["prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"] = torch.randn(2, 8)
    sd["mask_decoder.iou_token.weight"] = torch.randn(1, 16)
    torch.save(sd, os.path.join(out, "sam_fake.pth"))

    enc = load_sam_image_encoder(os.path.join(out, "sam_fake.pth"), SamEncoder(TOY)).eval()
    assert torch.equal(enc.blocks[2].attn.qkv.weight, sd["image_encoder.blocks.2.attn.qkv.weight"])
    assert enc.pos_embed.shape == (1, 8, 8, 32) and enc.blocks[1].attn.rel_pos_h.shape == (31, 16)
    vit = VitVision(TOY).eval()
    x = torch.rand(1, 3, 64, 64)
    xv = torch.rand(2, 3, 64, 64)
    kw = dict(opset_version=14, do_constant_folding=True)
    torch.onnx.export(enc, (x,), os.path.join(out, "grounding.onnx"), input_names=["pixel_values"],
                      output_names=["image_embeddings"], **kw)
    torch.onnx.export(vit, (xv,), os.path.join(out, "vision.onnx"), input_names=["pixel_values"],
                      output_names=["visual_tokens"], dynamic_axes={"pixel_values": {0: "V"}, "visual_tokens": {0: "V"}}, **kw)
    padded = load_sam_image_encoder(os.path.join(out, "sam_fake.pth"), SamEncoder({**TOY, "view_size": 80})).eval()
    xp = torch.rand(1, 3, 80, 80)
    torch.onnx.export(padded, (xp,), os.path.join(out, "grounding_padded.onnx"), input_names=["pixel_values"],
                      output_names=["image_embeddings"], **kw)
    with torch.no_grad():
        g, v, gp = enc(x), vit(xv), padded(xp)
        assert gp.shape == (1, 16, 10, 10)
    with open(os.path.join(out, "encoders.json"), "w") as f:
        json.dump({"grounding": {"input": x.reshape(-1).tolist(), "dims": list(g.shape), "output": g.reshape(-1).tolist()},
                   "grounding_padded": {"input": xp.reshape(-1).tolist(), "dims": list(gp.shape),
                                        "output": gp.reshape(-1).tolist()},
                   "vision": {"input": xv.reshape(-1).tolist(), "dims": list(v.shape), "output": v.reshape(-1).tolist()}}, f)


if __name__ == "__main__":
    main(sys.argv[1])
