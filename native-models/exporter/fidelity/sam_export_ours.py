#!/usr/bin/python3
"""Our side of the SAM fidelity check: the exporter's grounding + pixel stages from the same seeded checkpoint.

  /usr/bin/python3 sam_export_ours.py FIXTURE.json OUT [--seg SEG_FIXTURE.json]

Rebuilds the checkpoint the fixture's upstream run used (sam_checkpoint.py: the fixture's state_dict names/shapes
and seed; its content sha256 must match the fixture's, so both sides provably read the same weights), writes it as
OUT/sam_seeded.pth in the released sam_vit_*.pth layout and exports it with export_pack.export_torch_stages — the
`--sam-checkpoint` path of export_pack.py — as OUT/grounding.onnx + OUT/pixel.onnx at the fixture's geometry
(view S = SAM's input size, grid S/16, mask 4 x grid). With --seg (seg_upstream_fixtures.py's output) the pixel
stage also gets the `<SEG>` projection (`--seg-projection`): LISA's text_hidden_fcs rebuilt from that fixture's seed
(sha256 checked) as a `model.text_hidden_fcs.*` file, and the stage's seg_hidden width becomes its D.
Debian python3-torch + python3-onnx + numpy only (CI).
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


def our_config(fx, hidden=None):
    from configs import CONFIGS

    c = fx["config"]
    base = {**CONFIGS["tiny"], **({"hidden": hidden} if hidden else {})}
    return {**base, "grounding": "sam-vit-b", "view_size": c["img_size"], "g_patch": c["patch"],
            "g_width": c["embed_dim"], "g_heads": c["heads"], "g_layers": c["depth"], "g_window": c["window"],
            "g_global": c["global"], "g_channels": c["channels"], "g_grid": c["grid"], "mask_size": c["maskSize"]}


def seg_projection(seg_fixture, out):
    """the seg fixture's text_hidden_fcs weights, written as a LISA-layout file for --seg-projection -> (path, D)"""
    import torch

    with open(seg_fixture) as f:
        sx = json.load(f)
    w = make_weights(sx["projSpec"], sx["projSeed"])
    if content_sha256(w) != sx["projContentSha256"]:
        raise SystemExit("seeded <SEG> projection differs from the upstream run's")
    path = os.path.join(out, "seg_projection.pth")
    torch.save({k: torch.from_numpy(v) for k, v in w.items()}, path)
    return path, sx["D"]


def main(fixture, out, seg_fixture=None):
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

    seg, hidden = seg_projection(seg_fixture, out) if seg_fixture else (None, None)
    export_torch_stages(our_config(fx, hidden), out, 0, ["grounding", "pixel"], sam_checkpoint=ckpt, seg_projection=seg)
    os.remove(ckpt)
    if seg:
        os.remove(seg)
    info = {"contentSha256": got, "fileSha256": file_sha, "segHidden": hidden, "seconds": round(time.time() - t0, 2)}
    with open(os.path.join(out, "export.json"), "w") as f:
        json.dump(info, f)
    print(json.dumps(info))


if __name__ == "__main__":
    args = sys.argv[1:]
    seg = args[args.index("--seg") + 1] if "--seg" in args else None
    main(args[0], args[1], seg)
