#!/usr/bin/python3
"""The "ours" side of decoderFidelity.int.test.ts in one process (saves interpreter + onnx start-ups in CI):
the tiny seeded checkpoint, untransformed (sha256 checked) and with each negative-test transform, each exported
by export_pack.py (fp32 embed + decoder).

  /usr/bin/python3 export_tiny_variants.py OUT_DIR TRANSFORM...   -> OUT_DIR/ours-<name>/{embed,decoder}.onnx
  (name: `fp32` for the untransformed checkpoint, else the transform with non-alphanumerics as `_`)
"""
import contextlib
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import export_pack  # noqa: E402
import make_checkpoint  # noqa: E402


def main(out, transforms):
    for t in [None, *transforms]:
        name = "fp32" if t is None else re.sub(r"[^a-z0-9]", "_", t)
        ckpt = os.path.join(out, f"ckpt-{name}")
        with contextlib.redirect_stdout(io.StringIO()):
            make_checkpoint.main(["--config", "tiny", "--out", ckpt] + (["--transform", t] if t else ["--check"]))
            export_pack.main(["--config", "tiny", "--checkpoint", ckpt, "--quant", "fp32", "--only", "embed,decoder",
                              "--out", os.path.join(out, f"ours-{name}")])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
