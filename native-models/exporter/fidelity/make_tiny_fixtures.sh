#!/bin/bash
# Writes decoder_fixtures/ for decoderFidelity.int.test.ts (committed, ≈ 0.8 MB): the tiny seeded checkpoint's
# transformers logits (tiny_transformers.json + .f32) and llama.cpp's F32 GGUF of it (tiny.gguf + tiny.gguf.json).
#
#   VENV=/tmp/venv native-models/exporter/fidelity/make_tiny_fixtures.sh [WORK_DIR]
#
# VENV needs torch (CPU), transformers, sentencepiece, numpy — run once here; CI only reads the results.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
work=${1:-$(mktemp -d)}
py=${VENV:-/tmp/venv}/bin/python
src=$(cd "$repo/native-models/llamacpp" && node -e "import('./ensure.mjs').then(m => console.log(m.llamaCppSource(process.argv[1])))" "$work/llama.cpp")
"$py" "$here/make_checkpoint.py" --config tiny --out "$work/tiny" --check
"$py" "$here/expected_transformers.py" "$work/tiny" "$here/decoder_fixtures/tiny_transformers"
"$py" "$here/make_gguf.py" --llama-src "$src" "$work/tiny" "$here/decoder_fixtures/tiny.gguf"
"$py" - "$here" <<'PY'
import hashlib, json, os, sys
here = sys.argv[1]
sha = hashlib.sha256(open(os.path.join(here, "decoder_fixtures", "tiny.gguf"), "rb").read()).hexdigest()
ckpt = json.load(open(os.path.join(here, "checkpoints.json")))["tiny"]["sha256"]
with open(os.path.join(here, "decoder_fixtures", "tiny.gguf.json"), "w") as f:
    json.dump({"sha256": sha, "checkpointSha256": ckpt, "converter": "convert_hf_to_gguf.py --outtype f32 (node-llama-cpp's bundled llama.cpp)"}, f, indent=1)
    f.write("\n")
PY
