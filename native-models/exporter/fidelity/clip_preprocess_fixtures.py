#!/usr/bin/env python3
"""Expected side of the image-preprocessing fidelity checks (LLaVA-1.5 / GeoChat views) -> small fixtures.

Runs once, here (pip's transformers + Pillow; CI has neither):
  llava15  LLaVA's llava/mm_utils.py process_images(image_aspect_ratio='pad'): expand2square with the processor's
           mean colour, then CLIPImageProcessor (openai/clip-vit-large-patch14-336's preprocessor_config.json:
           shortest edge 336, bicubic, centre crop 336, rescale, normalise)
  geochat  GeoChat's geochat/mm_utils.py process_images: the same padding, then the processor at 504 px
transformers >= 5 without torchvision runs CLIPImageProcessor as its Pillow backend (CLIPImageProcessorPil), the
same Pillow resize that transformers 4.31 (both repositories' pin) used.
Images: real 8-bit RGB GeoTIFFs from $VANTAGE_DATA/imagery opened with Pillow (the TCI case is a portrait crop).
JPEG-compressed ones (goes.tif, cogeo.tif) are left out: libjpeg and the app's decoder differ by a grey level or
two before any preprocessing.
Per case the fixture holds the upstream pixel_values turned back into grey levels ((v·std + mean)·255, rounded):
their sha256, per-band means (4 rows / 4 columns), 8×8 crops at seeded places, never the image.
Also clip_fixtures/clip_pil_bicubic.json: seeded synthetic images and Pillow's Image.resize(BICUBIC) of them (unit test).

  python3 -m venv /tmp/venv-clip && /tmp/venv-clip/bin/pip install transformers==5.18.0 torch numpy pillow safetensors
  (no torchvision: transformers then runs CLIPImageProcessor on Pillow); the mirrors come from the `fetch` tool:
  /tmp/venv-clip/bin/python clip_preprocess_fixtures.py --llava-mirror M1 --geochat-mirror M2 --data DATA --out clip_fixtures
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import types

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_upstream  # noqa: E402

CLIP336 = {"crop_size": 336, "do_center_crop": True, "do_normalize": True, "do_resize": True,
           "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],
           "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 336}
IMAGES = [  # (name, file under imagery/, crop box or None)
    ("rgb-byte", "optical_utm/RGB.byte.tif", None),            # 791x718 landscape, reduced, nodata collar
    ("world", "optical_4326/world.rgb.tif", None),              # 512x256, 2:1: a wide pad band
    ("spacenet-rgb", "sar/spacenet6_rgb_coregistered.tif", None),  # 200x200 square, enlarged
    ("tci", "sentinel2_utm29n/TCI.tif", None),                  # 1098x1098 square, reduced 2-3x
    ("tci-portrait", "sentinel2_utm29n/TCI.tif", (200, 0, 500, 1098)),  # 300x1098 portrait crop
]
BAND = 4
CROPS = 6


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def pil_cases(rng):
    """Synthetic Pillow BICUBIC cases for the unit test: reduce, enlarge, mixed, odd sizes."""
    out = []
    for (w, h), (ow, oh) in (((37, 23), (16, 16)), ((9, 20), (33, 41)), ((151, 99), (32, 32)), ((40, 40), (39, 41)),
                             ((400, 7), (13, 5))):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        a[: h // 2, : w // 2] = 250  # a flat block and hard edges beside the noise (over/undershoot, clipping)
        r = np.asarray(Image.fromarray(a).resize((ow, oh), Image.BICUBIC))
        out.append({"w": w, "h": h, "outW": ow, "outH": oh, "input": b64(a), "expected": b64(r)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llava-mirror", required=True)
    ap.add_argument("--geochat-mirror", required=True)
    ap.add_argument("--data", default=os.environ.get("VANTAGE_DATA", os.path.join(HERE, "../../../../shared/data")))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import transformers
    from transformers import CLIPImageProcessor
    work = tempfile.mkdtemp(prefix="clip-pre-")
    commits = {"llava": clip_upstream.checkout(a.llava_mirror, os.path.join(work, "llava-src"), "llava"),
               "geochat": clip_upstream.checkout(a.geochat_mirror, os.path.join(work, "geochat-src"), "geochat")}
    pdir = os.path.join(work, "clip-vit-large-patch14-336")
    os.makedirs(pdir)
    with open(os.path.join(pdir, "preprocessor_config.json"), "w") as f:
        json.dump(CLIP336, f)
    proc = CLIPImageProcessor.from_pretrained(pdir)
    mean, std = np.array(CLIP336["image_mean"]), np.array(CLIP336["image_std"])
    rng = np.random.default_rng(5)
    cases = []
    cfg = types.SimpleNamespace(image_aspect_ratio="pad")
    for name, rel, box in IMAGES:
        img = Image.open(os.path.join(a.data, "imagery", rel)).convert("RGB")
        if box:
            img = img.crop(box)
        for pkg in ("llava", "geochat"):
            up = clip_upstream.load(os.path.join(work, f"{pkg}-src"), pkg)
            pv = up["mm_utils"].process_images([img], proc, cfg)[0].numpy().astype(np.float64)  # [3, S, S]
            grey = (pv * std[:, None, None] + mean[:, None, None]) * 255
            g8 = np.clip(np.round(grey), 0, 255).astype(np.uint8).transpose(1, 2, 0)  # HWC, as the app's views
            S = g8.shape[0]
            bands = lambda ax: g8.reshape(S // BAND, BAND, S, 3).mean(axis=(1, 2)) if ax == 0 else \
                g8.reshape(S, S // BAND, BAND, 3).mean(axis=(0, 2))  # noqa: E731
            pos = [[int(rng.integers(0, S - 8)), int(rng.integers(0, S - 8))] for _ in range(CROPS)]
            cases.append({"name": name, "pipeline": "llava15" if pkg == "llava" else "geochat", "file": f"imagery/{rel}",
                          "crop": box, "width": img.size[0], "height": img.size[1], "size": S,
                          "offGrid": float(np.abs(grey - np.round(grey)).max()),
                          "sha256": hashlib.sha256(g8.tobytes()).hexdigest(),
                          "rowBands": np.round(bands(0), 3).reshape(-1).tolist(),
                          "colBands": np.round(bands(1), 3).reshape(-1).tolist(),
                          "crops": [{"x": x, "y": y, "rgb": b64(g8[y:y + 8, x:x + 8])} for x, y in pos]})
            print(f"{name} {pkg}: {img.size} -> {S}x{S}, off-grid {cases[-1]['offGrid']:.2e}")
    os.makedirs(a.out, exist_ok=True)
    meta = {"upstream": {"llava": f"haotian-liu/LLaVA@{commits['llava']} llava/mm_utils.py process_images",
                         "geochat": f"mbzuai-oryx/GeoChat@{commits['geochat']} geochat/mm_utils.py process_images",
                         "processor": f"transformers {transformers.__version__} {type(proc).__name__}",
                         "pillow": PIL.__version__},
            "mean": CLIP336["image_mean"], "std": CLIP336["image_std"], "band": BAND}
    with open(os.path.join(a.out, "clip_preprocess.json"), "w") as f:
        json.dump({**meta, "cases": cases}, f)
    with open(os.path.join(a.out, "clip_pil_bicubic.json"), "w") as f:
        json.dump({"pillow": PIL.__version__, "cases": pil_cases(np.random.default_rng(6))}, f)
    for n in ("clip_preprocess.json", "clip_pil_bicubic.json"):
        print(n, os.path.getsize(os.path.join(a.out, n)) // 1024, "KB")


if __name__ == "__main__":
    main()
