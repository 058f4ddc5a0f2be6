#!/usr/bin/python3
"""Expected side of the SAM fidelity check: facebookresearch/segment-anything's own code on real images.

  PYTHONPATH=/tmp/sam-src /usr/bin/python3 sam_upstream_fixtures.py --config ci --views DUMP --out sam_fixtures/ci.json

(segment_anything from github.com/facebookresearch/segment-anything — no pip package needed, its folder on
PYTHONPATH; Debian python3-torch + python3-torchvision, which its ResizeLongestSide imports.) Imports the upstream
package and this folder's seeded-weights helper (sam_checkpoint.py), never the exporter's modules.

1. builds the upstream model for --config (vit_b: `sam_model_registry['vit_b']` itself, 1024 px; vit_l_d4 /
   vit_h_d4: its `_build_sam` at ViT-L / ViT-H widths and heads with 4 blocks; ci: ViT-B widths and heads, 2 blocks
   (one windowed, one global), the same prompt encoder and mask decoder, at 256 px from its own classes), records its
   state_dict names and shapes, writes a seeded numpy checkpoint in that layout (sam_checkpoint.py) and loads it
   back through the registry / load_state_dict (strict);
2. for every case the app wrote (samFidelity.int.test.ts with VANTAGE_SAM_DUMP=DUMP: the app's full-resolution render
   of the rect, the app's S x S view of it, the prompts):
   - SamPredictor.set_image(full render): the image encoder's input tensor (forward pre-hook) -> per-channel
     statistics and small crops (the preprocessing check), and its low-res logits for each prompt (end-to-end);
   - SamPredictor.set_image(app view) (S x S: ResizeLongestSide is the identity there): image embeddings (sampled
     values, statistics, +-1 projections) and, per prompt, predict(multimask_output=False, return_logits=True):
     low-res logits (all of them), IoU prediction, the final S x S mask as bits and its foreground fraction.
Writes --out (JSON; tensors as base64 little-endian float32).
"""
import argparse
import base64
import json
import os
import sys
from functools import partial

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sam_checkpoint import content_sha256, make_weights, write_checkpoint  # noqa: E402

import segment_anything  # noqa: E402
from segment_anything import SamPredictor, sam_model_registry  # noqa: E402
from segment_anything.build_sam import _build_sam  # noqa: E402
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer  # noqa: E402

SEED = 20240918
CONFIGS = {
    "ci": {"embed_dim": 768, "depth": 2, "heads": 12, "global": [1], "img_size": 256},
    "vit_b": {"embed_dim": 768, "depth": 12, "heads": 12, "global": [2, 5, 8, 11], "img_size": 1024},
    "vit_l_d4": {"embed_dim": 1024, "depth": 4, "heads": 16, "global": [1, 3], "img_size": 1024},
    "vit_h_d4": {"embed_dim": 1280, "depth": 4, "heads": 16, "global": [1, 3], "img_size": 1024},
}


def build(name):
    c = CONFIGS[name]
    if name == "vit_b":
        return sam_model_registry["vit_b"]()
    if c["img_size"] == 1024:
        return _build_sam(c["embed_dim"], c["depth"], c["heads"], c["global"])
    s = c["img_size"]  # upstream's _build_sam with image_size = s (it hard-codes 1024)
    return Sam(
        image_encoder=ImageEncoderViT(depth=c["depth"], embed_dim=c["embed_dim"], img_size=s, mlp_ratio=4,
                                      norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=c["heads"],
                                      patch_size=16, qkv_bias=True, use_rel_pos=True,
                                      global_attn_indexes=c["global"], window_size=14, out_chans=256),
        prompt_encoder=PromptEncoder(embed_dim=256, image_embedding_size=(s // 16, s // 16), input_image_size=(s, s),
                                     mask_in_chans=16),
        mask_decoder=MaskDecoder(num_multimask_outputs=3, transformer=TwoWayTransformer(depth=2, embedding_dim=256,
                                 mlp_dim=2048, num_heads=8), transformer_dim=256, iou_head_depth=3,
                                 iou_head_hidden_dim=256),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375]).eval()


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def bits(mask):
    return base64.b64encode(np.packbits(mask.astype(np.uint8).reshape(-1), bitorder="little").tobytes()).decode()


def sign_projections(x, n=8):
    """+-1 projections / sqrt(N): sign of element i in projection j is bit 20 of (i*2654435761 + j*40503) mod 2^32
    (the test computes the same)."""
    flat = x.reshape(-1).astype(np.float64)
    i = np.arange(flat.size, dtype=np.uint64)
    out = []
    for j in range(n):
        h = (i * np.uint64(2654435761) + np.uint64(j * 40503)) & np.uint64(0xFFFFFFFF)
        s = np.where((h >> np.uint64(20)) & np.uint64(1), 1.0, -1.0)
        out.append(float((s * flat).sum() / np.sqrt(flat.size)))
    return out


def stats(x):
    x = x.astype(np.float64)
    return {"mean": float(x.mean()), "std": float(x.std()), "absmax": float(np.abs(x).max()),
            "rms": float(np.sqrt((x ** 2).mean()))}


def prompt_args(p, rect, sx, sy):
    """the app's prompt (image pixels) -> SamPredictor.predict kwargs in the given image's pixels"""
    x0, y0 = rect[0], rect[1]
    X = lambda x: (x - x0) * sx  # noqa: E731
    Y = lambda y: (y - y0) * sy  # noqa: E731
    if p["kind"] == "point":
        return {"point_coords": np.array([[X(p["x"]), Y(p["y"])]]), "point_labels": np.array([1])}
    if p["kind"] == "box":
        return {"box": np.array([X(min(p["x0"], p["x1"])), Y(min(p["y0"], p["y1"])), X(max(p["x0"], p["x1"])),
                                 Y(max(p["y0"], p["y1"]))])}
    return {"point_coords": np.array([[X(q["x"]), Y(q["y"])] for q in p["points"]]),
            "point_labels": np.array([q["label"] for q in p["points"]])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--views", required=True, help="folder the test wrote with VANTAGE_SAM_DUMP")
    ap.add_argument("--out", required=True)
    ap.add_argument("--checkpoint", help="where to write the seeded .pth (default: beside --views)")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    cfg = CONFIGS[a.config]
    sam = build(a.config)
    spec = [[k, list(v.shape)] for k, v in sam.state_dict().items()]
    weights = make_weights(spec, SEED)
    ckpt = a.checkpoint or os.path.join(a.views, f"sam_{a.config}_seeded.pth")
    file_sha = write_checkpoint(weights, ckpt)
    if a.config == "vit_b":
        sam = sam_model_registry["vit_b"](checkpoint=ckpt)  # the registry's own loading path
    else:
        sam.load_state_dict(torch.load(ckpt), strict=True)
    sam.eval()
    S = cfg["img_size"]
    g = S // 16
    predictor = SamPredictor(sam)
    captured = {}
    sam.image_encoder.register_forward_pre_hook(lambda m, inp: captured.__setitem__("x", inp[0].detach().clone()))
    with open(os.path.join(a.views, "cases.json")) as f:
        dumped = json.load(f)
    assert dumped["S"] == S, f"views were dumped at S={dumped['S']}, config {a.config} needs {S}"
    rng = np.random.default_rng(7)
    cases = []
    for case in dumped["cases"]:
        name, rect, fw, fh = case["name"], case["rect"], case["fullW"], case["fullH"]
        full = np.fromfile(os.path.join(a.views, f"{name}.full.rgb"), dtype=np.uint8).reshape(fh, fw, 3)
        view = np.fromfile(os.path.join(a.views, f"{name}.view.rgb"), dtype=np.uint8).reshape(S, S, 3)
        # (a) preprocessing + end to end: SamPredictor on the full-resolution image, as a user would call it
        predictor.set_image(full)
        x = captured["x"][0].numpy()  # [3,S,S]: resized, normalised, zero-padded bottom/right
        ih, iw = predictor.input_size
        crops = []
        for k in range(24):
            # most crops in the image, a few in the padding (when there is some) and one at each corner of the image
            if k < 4:
                cy, cx = [(0, 0), (0, iw - 8), (ih - 8, 0), (ih - 8, iw - 8)][k]
            elif k < 8 and (ih < S or iw < S):
                cy, cx = (int(rng.integers(ih, S - 7)), int(rng.integers(0, S - 7))) if ih < S else \
                    (int(rng.integers(0, S - 7)), int(rng.integers(iw, S - 7)))
            else:
                cy, cx = int(rng.integers(0, S - 7)), int(rng.integers(0, S - 7))
            crops.append({"y": cy, "x": cx, "values": b64(x[:, cy:cy + 8, cx:cx + 8])})
        full_low = []
        for p in case["prompts"]:
            _, _, low = predictor.predict(**prompt_args(p, rect, 1.0, 1.0), multimask_output=False, return_logits=True)
            full_low.append(low[0])
        pre = {"inputSize": [ih, iw], "channelStats": [stats(x[c]) for c in range(3)], "crops": crops,
               "projections": sign_projections(x)}
        # (b) the model on identical input: SamPredictor on the app's S x S view (the same call when they are equal)
        if not (full.shape == view.shape and np.array_equal(full, view)):
            predictor.set_image(view)
        xv = captured["x"][0].numpy()
        emb = predictor.features[0].numpy()  # [256,g,g]
        idx = np.sort(rng.choice(emb.size, size=2048, replace=False))
        prompts = []
        sx, sy = S / (rect[2] - rect[0]), S / (rect[3] - rect[1])
        for p, fl in zip(case["prompts"], full_low):
            args = prompt_args(p, rect, sx, sy)
            masks, iou, low = predictor.predict(**args, multimask_output=False, return_logits=True)
            final = masks[0] > sam.mask_threshold
            prompts.append({"prompt": p, "samArgs": {k: v.tolist() for k, v in args.items()},
                            "lowRes": b64(low[0]), "iou": float(iou[0]), "finalBits": bits(final),
                            "finalFg": float(final.mean()), "lowFg": float((low[0] > 0).mean()),
                            "lowNearZero": int((np.abs(low[0]) < 1e-3).sum()),
                            "fullImageLowRes": b64(fl)})
            print(f"{name} {p['kind']}: iou {iou[0]:.4f}, final fg {final.mean():.3f}, low-res fg {(low[0] > 0).mean():.3f}")
        cases.append({"name": name, "file": case["file"], "rect": rect, "fullW": fw, "fullH": fh,
                      "viewSha256": case["viewSha256"], "fullSha256": case["fullSha256"],
                      "preprocessing": pre, "viewInputStats": [stats(xv[c]) for c in range(3)],
                      "embedding": {"dims": list(emb.shape), "index": idx.tolist(), "values": b64(emb.reshape(-1)[idx]),
                                    "stats": stats(emb), "projections": sign_projections(emb)},
                      "prompts": prompts})
    commit = None
    src = os.path.dirname(os.path.dirname(os.path.abspath(segment_anything.__file__)))
    if os.path.exists(os.path.join(src, "COMMIT")):
        commit = open(os.path.join(src, "COMMIT")).read().strip()
    import torchvision

    out = {"upstream": {"repository": "https://github.com/facebookresearch/segment-anything", "commit": commit,
                        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__},
           "config": {**cfg, "name": a.config, "window": 14, "patch": 16, "grid": g, "channels": 256,
                      "maskSize": 4 * g},
           "seed": SEED, "spec": spec, "contentSha256": content_sha256(weights), "fileSha256": file_sha,
           "params": int(sum(int(np.prod(s)) for _, s in spec)), "S": S, "cases": cases}
    with open(a.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1024:.0f} KiB); checkpoint {ckpt} sha256 {file_sha}, "
          f"content {out['contentSha256']}")


if __name__ == "__main__":
    main()
