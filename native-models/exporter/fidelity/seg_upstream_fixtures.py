#!/usr/bin/python3
"""Expected side of the `<SEG>` projection check: LISA's own code (github.com/dvlab-research/LISA) on the SAM
fidelity check's real views.

  PYTHONPATH=/tmp/lisa-src/model /usr/bin/python3 seg_upstream_fixtures.py --sam-fixture sam_fixtures/ci.json \
      --views DUMP --out sam_fixtures/ci_seg.json

(/tmp/lisa-src: `git archive HEAD model/segment_anything model/LISA.py` of LISA's repository, its commit in
/tmp/lisa-src/COMMIT. LISA's `segment_anything` is a fork whose PromptEncoder takes `text_embeds`; no pip package,
Debian python3-torch + python3-torchvision.) What LISA does with the `<SEG>` token's last hidden state
(model/LISA.py, `LisaMetaModel.initialize_lisa_modules` and `LISAForCausalLM.evaluate`):
  text_hidden_fcs = ModuleList([Sequential(Linear(D, D), ReLU(inplace=True), Linear(D, out_dim), Dropout(0.0))])
  pred = text_hidden_fcs[0](hidden)                                  # [n, 256]
  sparse, dense = visual_model.prompt_encoder(points=None, boxes=None, masks=None, text_embeds=pred.unsqueeze(1))
  low_res, iou = visual_model.mask_decoder(image_embeddings=..., image_pe=prompt_encoder.get_dense_pe(),
                                           sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                           multimask_output=False)
  mask = visual_model.postprocess_masks(low_res, input_size, original_size) > 0
The projection module is built here exactly as those lines build it (it lives inside LISA's LLaVA model, which needs
the whole LLaVA stack to construct); the SAM part is LISA's fork itself, loaded with the SAM check's seeded checkpoint
(same state_dict names as facebookresearch's: asserted). Weights come from numpy's PCG64 (sam_checkpoint.make_weights,
PyTorch-default scaling for the two Linear layers) with D = 4096 (LISA-7B's hidden size); the `<SEG>` hidden states
are seeded N(0, 1) vectors (a final-norm LLaMA state's scale), the first ones whose final mask is 5-95 % foreground
on every view. Writes --out: per view and hidden state the low-res logits, IoU prediction and final S x S mask.
"""
import argparse
import base64
import hashlib
import inspect
import json
import os
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sam_checkpoint import content_sha256, make_weights  # noqa: E402

import segment_anything  # noqa: E402  (LISA's fork, from PYTHONPATH)
from segment_anything import SamPredictor  # noqa: E402
from sam_upstream_fixtures import b64, bits, build  # noqa: E402  (builds with the segment_anything imported above)

D = 4096
OUT_DIM = 256
PROJ_SEED = 20230803  # LISA's first release
HIDDEN_SEED = 4096
PREFIX = "model.text_hidden_fcs."
PROJ_SPEC = [[f"{PREFIX}0.0.weight", [D, D]], [f"{PREFIX}0.0.bias", [D]],
             [f"{PREFIX}0.2.weight", [OUT_DIM, D]], [f"{PREFIX}0.2.bias", [OUT_DIM]]]


def lisa_projection(weights):
    """LISA.py's text_hidden_fcs, built as its initialize_lisa_modules builds it, with `weights` loaded (strict)"""
    text_fc = [nn.Linear(D, D), nn.ReLU(inplace=True), nn.Linear(D, OUT_DIM), nn.Dropout(0.0)]
    fcs = nn.ModuleList([nn.Sequential(*text_fc)])
    fcs.load_state_dict({k[len(PREFIX):]: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    return fcs.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam-fixture", required=True, help="the SAM check's fixture (config, seed, state_dict spec)")
    ap.add_argument("--views", required=True, help="folder samFidelity.int.test.ts wrote with VANTAGE_SAM_DUMP")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, default=2, help="how many <SEG> hidden states")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    if "text_embeds" not in inspect.signature(segment_anything.modeling.PromptEncoder.forward).parameters:
        raise SystemExit("this segment_anything has no text_embeds: put LISA's model/ folder on PYTHONPATH")
    with open(a.sam_fixture) as f:
        fx = json.load(f)
    sam = build(fx["config"]["name"])
    names = [[k, list(v.shape)] for k, v in sam.state_dict().items()]
    if names != fx["spec"]:
        raise SystemExit("LISA's SAM fork has other state_dict names/shapes than the SAM fixture's upstream model")
    weights = make_weights(fx["spec"], fx["seed"])
    if content_sha256(weights) != fx["contentSha256"]:
        raise SystemExit("seeded SAM checkpoint differs from the SAM fixture's")
    sam.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    sam.eval()
    proj_w = make_weights(PROJ_SPEC, PROJ_SEED)
    fcs = lisa_projection(proj_w)
    S = fx["config"]["img_size"]
    predictor = SamPredictor(sam)
    with open(os.path.join(a.views, "cases.json")) as f:
        dumped = json.load(f)
    assert dumped["S"] == S, f"views were dumped at S={dumped['S']}, the fixture needs {S}"
    embeddings = []
    for case in dumped["cases"]:
        view = np.fromfile(os.path.join(a.views, f"{case['name']}.view.rgb"), dtype=np.uint8).reshape(S, S, 3)
        predictor.set_image(view)  # S x S: ResizeLongestSide is the identity, no padding
        embeddings.append(predictor.features.clone())

    def lisa_seg(emb, hidden):
        pred = fcs[0](torch.from_numpy(hidden[None].astype(np.float32)))
        sparse, dense = sam.prompt_encoder(points=None, boxes=None, masks=None, text_embeds=pred.unsqueeze(1))
        low, iou = sam.mask_decoder(image_embeddings=emb, image_pe=sam.prompt_encoder.get_dense_pe(),
                                    sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                    multimask_output=False)
        final = sam.postprocess_masks(low, input_size=(S, S), original_size=(S, S))[0, 0] > sam.mask_threshold
        return low[0, 0].numpy(), float(iou[0, 0]), final.numpy()

    rng = np.random.default_rng(HIDDEN_SEED)
    kept, tried = [], 0
    while len(kept) < a.hidden and tried < 200:
        tried += 1
        h = rng.standard_normal(D).astype(np.float32)
        runs = [lisa_seg(e, h) for e in embeddings]
        fg = [float(r[2].mean()) for r in runs]
        if all(0.05 < v < 0.95 for v in fg):
            kept.append((tried - 1, h, runs))
            print(f"hidden #{tried - 1}: final fg {', '.join(f'{v:.3f}' for v in fg)}")
    if len(kept) < a.hidden:
        raise SystemExit(f"only {len(kept)} of {tried} hidden states give 5-95 % foreground on every view")
    cases = []
    for i, case in enumerate(dumped["cases"]):
        seg = []
        for k, h, runs in kept:
            low, iou, final = runs[i]
            seg.append({"hidden": k, "lowRes": b64(low), "iou": iou, "finalBits": bits(final),
                        "finalFg": float(final.mean()), "lowNearZero": int((np.abs(low) < 1e-3).sum())})
        cases.append({"name": case["name"], "viewSha256": case["viewSha256"], "seg": seg})
    src = os.path.dirname(os.path.dirname(os.path.abspath(segment_anything.__file__)))
    commit_file = os.path.join(os.path.dirname(src), "COMMIT")
    commit = open(commit_file).read().strip() if os.path.exists(commit_file) else None
    lisa_py = os.path.join(src, "LISA.py")
    out = {"upstream": {"repository": "https://github.com/dvlab-research/LISA", "commit": commit,
                        "lisaPySha256": hashlib.sha256(open(lisa_py, "rb").read()).hexdigest()
                        if os.path.exists(lisa_py) else None,
                        "torch": torch.__version__, "numpy": np.__version__},
           "samFixture": {"config": fx["config"]["name"], "contentSha256": fx["contentSha256"]},
           "D": D, "outDim": OUT_DIM, "projSeed": PROJ_SEED, "projSpec": PROJ_SPEC,
           "projContentSha256": content_sha256(proj_w), "hiddenSeed": HIDDEN_SEED,
           "hidden": [{"index": k, "values": b64(h)} for k, h, _ in kept], "S": S,
           "maskSize": int(kept[0][2][0][0].shape[0]), "cases": cases}
    with open(a.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {a.out}: {len(cases)} views x {len(kept)} <SEG> hidden states ({tried} tried)")


if __name__ == "__main__":
    main()
