#!/usr/bin/env bash
# Issue 7 on the GPU machine (CUDA + Python, no Node, no network), from the checkout root, after the parts made by
# native-models/bench/gpuKit.mjs have been carried over (one ≤ 52 MB part per call, each copied to $PARTS):
#
#   bash native-models/bench/gpu-session.sh PARTS [STEP ...]      STEP: setup export bench ask (default: all four)
#
# setup   unpack the kit (node + onnxruntime-node 1.29 + CUDA 13 provider) to /tmp/vg and app.tar.xz into the
#         checkout (dist/, node_modules/ without onnxruntime, which is linked from the kit); print the GPU and whether
#         the native addon opens a CUDA session
# export  random-weight 7b-class packs: int4 GroupQueryAttention fp16 (the GPU pack; static KV cache) and, with
#         VANTAGE_GPU_MATMUL=1, the int4 plain-attention fp32 one (~10 GB host RAM, a few minutes each)
# bench   npm run bench:gpu's bundle on each pack: limits, decode per binding (stock vs native, KV in place, CUDA
#         graph) at 128 / 2 k, TTFT, click → mask, peak VRAM; JSON + log to $OUT
# ask     `vantage ask --pack` end to end on a real GeoTIFF on CUDA (ground mode: the answer streams and its <SEG>
#         gives a mask), human and --json output to $OUT
#
# VANTAGE_GPU_CONFIG=small|3b-class|7b-class (default 7b-class) picks the size; the same script runs on a CPU-only
# machine with a small config to check the packaging (the addon then reports why CUDA is unavailable).
set -euo pipefail
parts=${1:?usage: gpu-session.sh PARTS [setup|export|bench|ask ...]}
shift || true
steps=${*:-setup export bench ask}
out=${OUT:-/tmp/vantage-gpu-out}
kit=${VANTAGE_KIT_DIR:-/tmp/vg}
config=${VANTAGE_GPU_CONFIG:-7b-class}
packs=${VANTAGE_PACKS_DIR:-/tmp/vantage-packs}
repo=$(pwd)
mkdir -p "$out" "$packs"
log() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

env_up() {
  # shellcheck disable=SC1091
  source "$kit/env.sh"
  export VANTAGE_REPO="$repo" VANTAGE_DATA_DIR=/tmp/vantage-data
  # the kit's onnxruntime (with the CUDA provider beside its binding) serves the app's imports too
  mkdir -p node_modules
  ln -sfn "$kit/node_modules/onnxruntime-node" node_modules/onnxruntime-node
  ln -sfn "$kit/node_modules/onnxruntime-common" node_modules/onnxruntime-common
}

for step in $steps; do
  case $step in
    setup)
      log setup
      [ -x "$kit/node" ] || KIT_PARTS="$parts" bash "$parts/unpack.sh" "$kit"
      [ -f dist/main/cli.mjs ] || xz -dc "$parts/app.tar.xz" | tar xf - -C "$repo"
      env_up
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt" || echo "no nvidia-smi" | tee "$out/gpu.txt"
      node -e "
        const ort = require('onnxruntime-node');
        const a = require('./dist/native/vantage_ort.node');
        console.log('node', process.version, '· onnxruntime', a.version(), '· providers', a.providers().join(' '));
        console.log('cuda runtime:', JSON.stringify(a.cudaInfo()));
        try { new a.Session('native-models/exporter/fixtures/decoder.int4-gqa-fp16.onnx', { provider: 'cuda' }); console.log('native CUDA session: ok'); }
        catch (e) { console.log('native CUDA session: ' + e.message.split('\n')[0]); }
      " 2>&1 | tee "$out/setup.txt"
      ;;
    export)
      log "export $config packs"
      py=${PYTHON:-python3}
      /usr/bin/time -v "$py" native-models/exporter/export_pack.py --config "$config" --random-weights --attention gqa --dtype float16 \
        --out "$packs/$config-gqa-fp16" 2>&1 | tail -25 | tee "$out/export-gqa-fp16.txt"
      if [ "${VANTAGE_GPU_MATMUL:-0}" = 1 ]; then
        "$py" native-models/exporter/export_pack.py --config "$config" --random-weights --out "$packs/$config-int4" 2>&1 | tail -5 | tee "$out/export-int4.txt"
      fi
      du -sh "$packs"/* | tee -a "$out/export-gqa-fp16.txt"
      ;;
    bench)
      env_up
      for p in "$packs"/*/; do
        name=$(basename "$p")
        log "bench $name"
        node dist/bench/gpuBench.mjs --pack "$p" --out "$out/bench-$name.json" 2>&1 | grep -v CleanUnusedInitializers | tee "$out/bench-$name.txt"
      done
      ;;
    ask)
      env_up
      image=$(ls "$repo"/fixtures/*.tif 2>/dev/null | head -1 || true)
      if [ -z "$image" ]; then echo "no fixtures/*.tif carried: ask skipped"; continue; fi
      p="$packs/$config-gqa-fp16"
      log "vantage ask --pack $p"
      node dist/main/cli.mjs ask "$image" --pack "$p" --box 200,200,420,380 --mode ground --max-tokens 24 "the river" 2>&1 | tee "$out/ask.txt"
      node dist/main/cli.mjs ask "$image" --pack "$p" --box 200,200,420,380 --mode chat --max-tokens 48 --json "describe <region1>" > "$out/ask.json" 2> "$out/ask.stderr" || true
      head -c 2000 "$out/ask.json"
      ;;
    *) echo "unknown step $step (setup export bench ask)"; exit 2 ;;
  esac
done
log "results in $out"
ls -l "$out"
