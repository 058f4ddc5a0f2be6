#!/usr/bin/python3
"""Our side of the CLIP-tower fidelity checks (CI: Debian python3-torch + numpy; no transformers).

For each fixture (made by clip_tower_fixtures.py from the upstream LLaVA / GeoChat code): regenerates the seeded
weights (sha256 must equal the fixture's), writes them in the published layouts — an HF CLIPVisionModel folder
(config.json + model.safetensors, key names vision_model.*) and a LLaVA-1.5 / GeoChat folder (config.json with
the mm_* fields + mm_projector.bin) — loads them with llava_vision.load_llava_vision (what export_pack.py uses),
runs the module on the fixture's seeded input, and compares every output token through the fixture's random
projections plus a few whole tokens: max abs error and max error relative to max |reference|.
Negative variants (each must FAIL the same check):
  llava15  select-layer-1  mm_vision_select_layer -1 instead of -2
           class-token     the class token kept (cls_patch, last token dropped so the shape still matches)
  geochat  align-corners-false  positions resized bicubic with align_corners=False
           class-token     as above (--negatives all; CI runs one negative per case, for time)
Prints one JSON line per variant; exit 0 when every real check passes and every negative fails.

  python3 clip_tower_check.py FIXTURE.json [...]   [--tol-rel 1e-4]
"""
import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from checkpoints import write_safetensors  # noqa: E402
from clip_weights import CLIP_L336, MEAN, STD, clip_l336_weights, pixel_values, projection, sha256_tensors  # noqa: E402
from llava_vision import load_llava_vision  # noqa: E402

# Debian's python3-torch links the reference BLAS (BLAS_INFO=generic: ~1 GFLOP/s); its oneDNN is ~20x faster
GENERIC_BLAS = "BLAS_INFO=generic" in torch.__config__.show()
NEGATIVES = {"llava15": ["select-layer-1", "class-token"], "geochat": ["align-corners-false", "class-token"]}
CI_NEGATIVES = {"llava15": ["select-layer-1"], "geochat": ["align-corners-false"]}


def unb64(s, shape):
    return np.frombuffer(base64.b64decode(s), dtype="<f4").reshape(shape).astype(np.float64)


def write_folders(d, tower, proj, depth, geochat, select_layer, select_feature):
    c = CLIP_L336
    clip, llava = os.path.join(d, f"clip{depth}"), os.path.join(d, f"llava-{geochat}-{select_layer}-{select_feature}")
    if os.path.isdir(llava):
        return clip, llava
    os.makedirs(llava)
    if not os.path.isdir(clip):
        os.makedirs(clip)
        with open(os.path.join(clip, "config.json"), "w") as f:
            json.dump({"architectures": ["CLIPVisionModel"], "model_type": "clip_vision_model",
                       "hidden_size": c["width"], "intermediate_size": c["mlp"], "num_hidden_layers": depth,
                       "num_attention_heads": c["heads"], "image_size": c["image_size"], "patch_size": c["patch"],
                       "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 768}, f)
        with open(os.path.join(clip, "preprocessor_config.json"), "w") as f:
            json.dump({"crop_size": 336, "image_mean": MEAN, "image_std": STD}, f)
        write_safetensors(os.path.join(clip, "model.safetensors"), tower)
    with open(os.path.join(llava, "config.json"), "w") as f:
        json.dump({"model_type": "geochat" if geochat else "llava", "hidden_size": c["llm"], "mm_hidden_size": c["width"],
                   "mm_vision_tower": "openai/clip-vit-large-patch14-336", "mm_projector_type": "mlp2x_gelu",
                   "mm_vision_select_layer": select_layer, "mm_vision_select_feature": select_feature,
                   "image_aspect_ratio": "pad"}, f)
    torch.save({k: torch.from_numpy(v) for k, v in proj.items()}, os.path.join(llava, "mm_projector.bin"))
    return clip, llava


def run(fx, tower, proj, d, variant):
    geochat = fx["case"] == "geochat"
    clip, llava = write_folders(d, tower, proj, fx["depth"], geochat, -1 if variant == "select-layer-1" else -2,
                                "cls_patch" if variant == "class-token" else "patch")
    m = load_llava_vision(clip, llava)
    if variant == "align-corners-false":  # the 24x24 table resized as GeoChat does, but align_corners=False
        pe = torch.from_numpy(tower["vision_model.embeddings.position_embedding.weight"])
        g, G = int(round((pe.shape[0] - 1) ** 0.5)), fx["imageSize"] // 14
        img = F.interpolate(pe[1:].reshape(g, g, -1).permute(2, 0, 1)[None], size=G, mode="bicubic", align_corners=False)
        new = torch.cat([pe[:1], img[0].permute(1, 2, 0).reshape(G * G, -1)])
        m.vision_model.embeddings.position_embedding.weight.data.copy_(new)
    if GENERIC_BLAS:  # same module and weights; its Linear/Conv2d GEMMs through oneDNN instead of the reference BLAS
        from torch.utils import mkldnn
        m = mkldnn.to_mkldnn(m)
    x = pixel_values(fx["views"], fx["imageSize"], fx["inputSeed"])
    assert sha256_tensors({"x": x}) == fx["inputSha256"], "the seeded input differs from the fixture's"
    with torch.no_grad():
        y = m(torch.from_numpy(x)).double().numpy()
    if variant == "class-token":
        y = y[:, :-1]
    return y


def compare(fx, y):
    dims = fx["dims"]
    if list(y.shape) != dims:
        return {"shape": list(y.shape), "maxAbs": float("inf"), "maxRel": float("inf")}
    flat = y.reshape(-1, dims[-1])
    P = projection(dims[-1], fx["K"], fx["projSeed"]).astype(np.float64)
    ref_p = unb64(fx["projected"], (flat.shape[0], fx["K"]))
    toks = fx["summary"]["tokens"]
    ref_t = unb64(fx["tokenValues"], (len(toks), dims[-1]))
    dp, dt = np.abs(flat @ P - ref_p), np.abs(flat[toks] - ref_t)
    return {"maxAbs": float(max(dp.max(), dt.max())),
            "maxRel": float(max(dp.max() / np.abs(ref_p).max(), dt.max() / np.abs(ref_t).max())),
            "maxAbsProjected": float(dp.max()), "maxAbsTokens": float(dt.max()),
            "meanDiff": abs(float(y.mean()) - fx["summary"]["mean"]), "std": float(y.std())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures", nargs="+")
    ap.add_argument("--tol-rel", type=float, default=1e-4)
    ap.add_argument("--negatives", choices=["none", "ci", "all"], default="ci")
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    ok = True
    d = tempfile.mkdtemp(prefix="clip-check-")
    try:
        cache = {}
        for path in a.fixtures:
            with open(path) as f:
                fx = json.load(f)
            if fx["depth"] not in cache:
                t0 = time.time()
                cache[fx["depth"]] = clip_l336_weights(fx["depth"])
                sha = sha256_tensors(*cache[fx["depth"]])
                if sha != fx["weightsSha256"]:
                    print(json.dumps({"case": fx["case"], "error": f"weights sha256 {sha} != fixture's {fx['weightsSha256']}"}))
                    return 1
            tower, proj = cache[fx["depth"]]
            for variant in ["real"] + {"none": {}, "ci": CI_NEGATIVES, "all": NEGATIVES}[a.negatives].get(fx["case"], []):
                t0 = time.time()
                r = compare(fx, run(fx, tower, proj, d, variant))
                passed = r["maxRel"] <= a.tol_rel
                ok &= passed if variant == "real" else not passed
                print(json.dumps({"case": fx["case"], "variant": variant, "depth": fx["depth"], "dims": fx["dims"],
                                  "pass": passed, "tolRel": a.tol_rel, "torch": torch.__version__,
                                  "gemm": "oneDNN" if GENERIC_BLAS else "BLAS", **r, "seconds": round(time.time() - t0, 1)}),
                      flush=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
