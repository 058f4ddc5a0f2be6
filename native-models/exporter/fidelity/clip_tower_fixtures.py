#!/usr/bin/env python3
"""Expected side of the CLIP-tower fidelity checks: the upstream code on seeded weights -> small fixtures.

Runs once, here (needs pip's transformers + torch; CI has neither transformers nor the upstream repositories):
  LLaVA-1.5  llava/model/multimodal_encoder/clip_encoder.py CLIPVisionTower (transformers' CLIPVisionModel,
             output_hidden_states, hidden_states[-2], patch tokens) + llava/model/multimodal_projector/builder.py
             (mlp2x_gelu), haotian-liu/LLaVA
  GeoChat    geochat/model/multimodal_encoder/clip_encoder.py CLIPVisionTower (the same, after its own
             clip_interpolate_embeddings to 504 px: bicubic, align_corners=True) + its projector builder,
             mbzuai-oryx/GeoChat
Weights: clip_weights.clip_l336_weights(depth) (seeded numpy; sha256 recorded), saved as an HF CLIP folder that
the upstream towers load with from_pretrained. Inputs: clip_weights.pixel_values (seeded).
Fixture per case: seeded random projections of every output token (K per token), a few whole tokens, summary
statistics; the outputs themselves are not committed.

  python3 -m venv /tmp/venv-clip && /tmp/venv-clip/bin/pip install transformers==5.18.0 torch numpy pillow safetensors
  (no torchvision: transformers then runs CLIPImageProcessor on Pillow); the mirrors come from the `fetch` tool:
  /tmp/venv-clip/bin/python clip_tower_fixtures.py --llava-mirror M1 --geochat-mirror M2 [--depth 2] --out clip_fixtures
(--depth 24 = the real tower, for the figure in native-models/README.md; not committed)
"""
import argparse
import base64
import json
import os
import sys
import tempfile
import types

import numpy as np
import torch
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_upstream  # noqa: E402
from clip_weights import CLIP_L336, MEAN, STD, clip_l336_weights, pixel_values, projection, sha256_tensors  # noqa: E402

CI_DEPTH = 2  # committed fixtures: 2 encoder layers (select -2 runs 1; -1 would run 2), CI's CPU budget
K = 16  # random projections per token
PROJ_SEED, TOKENS_SEED = 11, 12
CASES = {  # name -> (upstream package, image size, views, input seed)
    "llava15": ("llava", 336, 1, 101),
    "geochat": ("geochat", 504, 1, 102),
}


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, "<f4").tobytes()).decode()


def hf_clip_folder(tower, depth, d):
    """The seeded tower as a transformers CLIPVisionModel folder (what LLaVA / GeoChat from_pretrained)."""
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel
    c = CLIP_L336
    cfg = CLIPVisionConfig(hidden_size=c["width"], intermediate_size=c["mlp"], num_hidden_layers=depth,
                           num_attention_heads=c["heads"], image_size=c["image_size"], patch_size=c["patch"],
                           hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=768)
    os.makedirs(d, exist_ok=True)
    cfg.save_pretrained(d)
    save_file(tower, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})  # the published key names
    m = CLIPVisionModel.from_pretrained(d)  # what the upstream towers do; check that every tensor arrived
    got = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    for k, v in tower.items():
        g = got.get(k, got.get(k[len("vision_model."):]))
        assert g is not None and np.array_equal(g, v), f"from_pretrained did not load {k}"
    CLIPImageProcessor(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336},
                       image_mean=MEAN, image_std=STD).save_pretrained(d)
    return d


def summary(y, toks):
    y64 = y.astype(np.float64)
    flat = y64.reshape(-1, y.shape[-1])
    return {"mean": float(y64.mean()), "std": float(y64.std()), "absMax": float(np.abs(y64).max()),
            # spread of the tokens relative to the overall spread: ~0 would mean one repeated token (hollow)
            "tokenSpread": float(flat.std(axis=0).mean() / y64.std()),
            "distinctTokens": int(len({tuple(np.round(r[:64], 3)) for r in flat})), "tokens": toks}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llava-mirror", required=True)
    ap.add_argument("--geochat-mirror", required=True)
    ap.add_argument("--depth", type=int, default=CI_DEPTH)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default=tempfile.mkdtemp(prefix="clip-fixtures-"))
    a = ap.parse_args()
    import transformers
    torch.set_grad_enabled(False)
    tower, proj = clip_l336_weights(a.depth)
    sha = sha256_tensors(tower, proj)
    clip_dir = hf_clip_folder(tower, a.depth, os.path.join(a.work, "clip"))
    commits = {"llava": clip_upstream.checkout(a.llava_mirror, os.path.join(a.work, "llava-src"), "llava"),
               "geochat": clip_upstream.checkout(a.geochat_mirror, os.path.join(a.work, "geochat-src"), "geochat")}
    os.makedirs(a.out, exist_ok=True)
    for name, (pkg, size, views, seed) in CASES.items():
        up = clip_upstream.load(os.path.join(a.work, f"{pkg}-src"), pkg)
        args = types.SimpleNamespace(mm_vision_select_layer=-2, mm_vision_select_feature="patch",
                                     mm_projector_type="mlp2x_gelu", mm_hidden_size=CLIP_L336["width"],
                                     hidden_size=CLIP_L336["llm"])
        vt = up["clip_encoder"].CLIPVisionTower(clip_dir, args=args).eval()
        pj = up["projector"].build_vision_projector(args)
        pj.load_state_dict({k[len("model.mm_projector."):]: torch.from_numpy(v) for k, v in proj.items()}, strict=True)
        x = pixel_values(views, size, seed)
        feats = vt(torch.from_numpy(x))
        y = pj(feats).numpy()
        assert y.shape == (views, (size // 14) ** 2, CLIP_L336["llm"]), y.shape
        flat = y.reshape(-1, y.shape[-1])
        P = projection(y.shape[-1], K, PROJ_SEED)
        toks = sorted(np.random.default_rng(TOKENS_SEED).choice(flat.shape[0], 4, replace=False).tolist())
        fx = {"case": name, "upstream": {
                  "code": f"{pkg}/model/multimodal_encoder/clip_encoder.py CLIPVisionTower + "
                          f"{pkg}/model/multimodal_projector/builder.py build_vision_projector",
                  "repository": {"llava": "haotian-liu/LLaVA", "geochat": "mbzuai-oryx/GeoChat"}[pkg],
                  "commit": commits[pkg], "transformers": transformers.__version__, "torch": torch.__version__},
              "depth": a.depth, "weightsSha256": sha, "select_layer": -2, "select_feature": "patch",
              "projector": "mlp2x_gelu", "imageSize": size, "views": views, "inputSeed": seed,
              "inputSha256": sha256_tensors({"x": x}), "dims": list(y.shape), "projSeed": PROJ_SEED, "K": K,
              "projected": b64(flat @ P), "tokenValues": b64(flat[toks]), "summary": summary(y, toks)}
        path = os.path.join(a.out, f"{'clip_tower_llava15' if name == 'llava15' else 'geochat_tower'}"
                                   f"{'' if a.depth == CI_DEPTH else f'_depth{a.depth}'}.json")
        with open(path, "w") as f:
            json.dump(fx, f)
        print(f"{name}: {pkg}@{commits[pkg][:10]} depth {a.depth} {list(y.shape)} |y|max {fx['summary']['absMax']:.3f} "
              f"spread {fx['summary']['tokenSpread']:.3f} -> {path} ({os.path.getsize(path) // 1024} KB)")


if __name__ == "__main__":
    main()
