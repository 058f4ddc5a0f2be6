#!/usr/bin/python3
"""Our side of the SAM fidelity check: the exporter's grounding + pixel stages from the same seeded checkpoint.

  /usr/bin/python3 sam_export_ours.py FIXTURE.json OUT [--encoder-only-grid G]

Rebuilds the checkpoint the fixture's upstream run used (sam_checkpoint.py: the fixture's state_dict names/shapes
and seed; its content sha256 must match the fixture's, so both sides provably read the same weights), writes it as
OUT/sam_seeded.pth in the released sam_vit_*.pth layout and exports it with export_pack.export_torch_stages — the
`--sam-checkpoint` path of export_pack.py — as OUT/grounding.onnx + OUT/pixel.onnx at the fixture's geometry
(view S = SAM's input size, grid S/16, mask 4 x grid). Debian python3-torch + python3-onnx + numpy only (CI).
Prints one JSON line {contentSha256, fileSha256, seconds}.
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from sam_checkpoint import content_sha256, make_weights, write_checkpoint  # noqa: E402


def our_config(fx):
    from configs import CONFIGS

    c = fx["config"]
    return {**CONFIGS["tiny"], "grounding": "sam-vit-b", "view_size": c["img_size"], "g_patch": c["patch"],
            "g_width": c["embed_dim"], "g_heads": c["heads"], "g_layers": c["depth"], "g_window": c["window"],
            "g_global": c["global"], "g_channels": c["channels"], "g_grid": c["grid"], "mask_size": c["maskSize"]}


def main(fixture, out):
    t0 = time.time()
    with open(fixture) as f:
        fx = json.load(f)
    os.makedirs(out, exist_ok=True)
    weights = make_weights(fx["spec"], fx["seed"])
    got = content_sha256(weights)
    if got != fx["contentSha256"]:
        raise SystemExit(f"seeded checkpoint differs from the upstream run's: content sha256 {got}, fixture "
                         f"{fx['contentSha256']} (numpy's PCG64 stream changed?)")
    ckpt = os.path.join(out, "sam_seeded.pth")
    file_sha = write_checkpoint(weights, ckpt)
    del weights
    from export_pack import export_torch_stages

    export_torch_stages(our_config(fx), out, 0, ["grounding", "pixel"], sam_checkpoint=ckpt)
    os.remove(ckpt)
    info = {"contentSha256": got, "fileSha256": file_sha, "seconds": round(time.time() - t0, 2)}
    with open(os.path.join(out, "export.json"), "w") as f:
        json.dump(info, f)
    print(json.dumps(info))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
