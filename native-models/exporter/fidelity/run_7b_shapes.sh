#!/bin/bash
# The full-shape decoder fidelity runs (LLaMA-2-7B per-layer shapes at 2 layers, MHA and GQA): too big for CI
# (≈ 2.7 GB per checkpoint, ≈ 10 GB of files per config, ≈ 7 GB peak RAM), run by hand; results go into
# native-models/README.md's fidelity table.
#
#   native-models/exporter/fidelity/run_7b_shapes.sh WORK_DIR [CONFIG...]
#
# VENV: a Python with torch (CPU), transformers, sentencepiece, onnx, numpy (default /tmp/venv). The llama.cpp
# source (convert_hf_to_gguf.py, gguf-py) is the one bundled in node-llama-cpp (ensure.mjs llamaCppSource()).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
work=${1:?WORK_DIR}
shift
configs=${*:-llama2-7b-2l llama2-7b-gqa-2l}
py=${VENV:-/tmp/venv}/bin/python
mkdir -p "$work"
src=$(cd "$repo/native-models/llamacpp" && node -e "import('./ensure.mjs').then(m => console.log(m.llamaCppSource(process.argv[1])))" "$work/llama.cpp")
for c in $configs; do
  [ -f "$work/$c/model.safetensors" ] || "$py" "$here/make_checkpoint.py" --config "$c" --out "$work/$c" --check
  [ -f "$work/${c}_transformers.json" ] || "$py" "$here/expected_transformers.py" "$work/$c" "$work/${c}_transformers"
  [ -f "$work/$c.gguf" ] || "$py" "$here/make_gguf.py" --llama-src "$src" "$work/$c" "$work/$c.gguf"
  for q in fp32 int4; do
    [ -f "$work/$c-$q/decoder.onnx" ] || "$py" "$repo/native-models/exporter/export_pack.py" --config 7b-class \
      --checkpoint "$work/$c" --quant "$q" --only embed,decoder --out "$work/$c-$q" >/dev/null
  done
  # fp32 export of the int4 round-trip weights: int4 must equal it, so int4 vs fp32 is quantisation error alone
  [ -f "$work/$c-deq/model.safetensors" ] || "$py" "$here/dequantise_checkpoint.py" "$work/$c" "$work/$c-deq"
  [ -f "$work/$c-deq-fp32/decoder.onnx" ] || "$py" "$repo/native-models/exporter/export_pack.py" --config 7b-class \
    --checkpoint "$work/$c-deq" --quant fp32 --only embed,decoder --out "$work/$c-deq-fp32" >/dev/null
  rm -f "$work/$c-deq/model.safetensors"
  touch "$work/$c-deq/model.safetensors"
done
cd "$repo"
VANTAGE_FIDELITY_DIR="$work" npx vitest run --project integration native-models/exporter/fidelity/decoderFidelity.int.test.ts -t 'LLaMA-2-7B'
