#!/usr/bin/env bash
# Issue 7 on the GPU machine (CUDA + Python, no Node, no network), from the checkout root, after the parts made by
# native-models/bench/gpuKit.mjs have been carried over (one ≤ 52 MB part per call, each copied to $PARTS):
#
#   bash native-models/bench/gpu-session.sh PARTS [STEP ...]      STEP: setup export bench ask (default: all four)
#                                                                 or export-bg, collect (below)
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
# export-bg  the export step detached (setsid) from a copy of the exporter, so it runs while the later kit parts are
#         carried over (it needs only Python); bench waits for it. Log: $packs/export.log, exit code: $packs/export.rc
# levers  decode only, the in-place bindings, onnxruntime's defaults vs ORT_FPA_INTB_GEMM=1 (levers-PACK-*.json)
# kernels Nsight Compute's per-kernel GPU time of a few decode steps, summarised by ncu_summary.py (kernels-PACK.txt)
# collect everything under the results folder as one gpu-results.tar.gz in $OUT (the device returns ≤ 8 files)
#
# Results go to $VANTAGE_GPU_OUT (default /tmp/vantage-gpu-out): on the device $OUT is emptied before each call.
#
# VANTAGE_GPU_CONFIG=small|3b-class|7b-class (default 7b-class) picks the size; the same script runs on a CPU-only
# machine with a small config to check the packaging (the addon then reports why CUDA is unavailable).
set -euo pipefail
parts=${1:?usage: gpu-session.sh PARTS [setup|export|bench|ask ...]}
shift || true
steps=${*:-setup export bench ask}
out=${VANTAGE_GPU_OUT:-/tmp/vantage-gpu-out}
kit=${VANTAGE_KIT_DIR:-/tmp/vg}
config=${VANTAGE_GPU_CONFIG:-7b-class}
packs=${VANTAGE_PACKS_DIR:-/tmp/vantage-packs}
repo=$(pwd)
mkdir -p "$out" "$packs"
log() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

# the export step's work, from the exporter folder $1 (the checkout's, or export-bg's copy)
export_packs() {
  local py=${PYTHON:-python3} t0=$SECONDS
  "$py" "$1/export_pack.py" --config "$config" --random-weights --attention gqa --dtype float16 --out "$packs/$config-gqa-fp16" 2>&1 | tail -25
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  if [ "${VANTAGE_GPU_MATMUL:-0}" = 1 ]; then
    "$py" "$1/export_pack.py" --config "$config" --random-weights --out "$packs/$config-int4" 2>&1 | tail -5
    [ "${PIPESTATUS[0]}" = 0 ] || return 1
  fi
  echo "export took $((SECONDS - t0)) s"
  du -sh "$packs"/*/
}

# a detached export (export-bg) still running: wait for it; a failed one stops the session
wait_export() {
  if [ -f "$packs/export.log" ] && [ ! -f "$packs/export.rc" ]; then
    log "waiting for the detached export"
    while [ ! -f "$packs/export.rc" ]; do sleep 2; done
  fi
  [ -f "$packs/export.log" ] && cp "$packs/export.log" "$out/export.txt"
  if [ -f "$packs/export.rc" ] && [ "$(cat "$packs/export.rc")" != 0 ]; then
    echo "export failed: tail $out/export.txt"; tail -20 "$out/export.txt"; exit 1
  fi
}

env_up() {
  # shellcheck disable=SC1091
  source "$kit/env.sh"
  export VANTAGE_REPO="$repo" VANTAGE_DATA_DIR=/tmp/vantage-data
  # CUDA 13 / cuDNN 9 libraries that came as Python wheels (nvidia/cu13/lib, nvidia/cudnn/lib…), after the system's
  local site d
  site=$("${PYTHON:-python3}" -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null || true)
  for d in "$site"/nvidia/*/lib; do [ -d "$d" ] && LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"; done
  export LD_LIBRARY_PATH
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
      export_packs "$repo/native-models/exporter" 2>&1 | tee "$out/export.txt"
      ;;
    export-bg)
      log "export $config packs, detached"
      rm -rf /tmp/vantage-exporter && mkdir -p /tmp/vantage-exporter && cp -r "$repo/native-models" /tmp/vantage-exporter/
      rm -f "$packs/export.rc"
      # a new session: the device keeps it running after this call returns
      setsid nohup bash -c "$(declare -f export_packs); export config=$config packs=$packs out=$out PYTHON=${PYTHON:-python3} VANTAGE_GPU_MATMUL=${VANTAGE_GPU_MATMUL:-0};
        export_packs /tmp/vantage-exporter/native-models/exporter > $packs/export.log 2>&1; echo \$? > $packs/export.rc" \
        > /dev/null 2>&1 < /dev/null &
      echo "export started (pid $!): tail $packs/export.log"
      ;;
    bench)
      env_up
      wait_export
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
    levers)
      # CUDA decode levers on the app's in-place bindings, decode only: onnxruntime's defaults vs the fpA_intB
      # weight-only GEMM/GEMV kernels (ORT_FPA_INTB_GEMM=1, TensorRT-LLM's, compiled into the CUDA provider)
      env_up
      wait_export
      for p in "$packs"/*/; do
        name=$(basename "$p")
        for lever in default fpa-intb; do
          log "levers $name: $lever"
          ( [ $lever = fpa-intb ] && export ORT_FPA_INTB_GEMM=1
            node dist/bench/gpuBench.mjs --pack "$p" --decode-only --bindings 'in place' --out "$out/levers-$name-$lever.json" ) 2>&1 |
            grep -v CleanUnusedInitializers | tee "$out/levers-$name-$lever.txt"
        done
      done
      ;;
    kernels)
      # where a decode step's GPU time goes: Nsight Compute's duration of every kernel of 1 warm-up + 4 steps at
      # context 128 (KV in place, no CUDA graph), summarised by ncu_summary.py; KERNELS_ENV="ORT_FPA_INTB_GEMM=1" for a lever
      env_up
      wait_export
      ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1 || true)
      [ -n "$ncu" ] || { echo "kernels: no ncu on this machine"; continue; }
      for p in "$packs"/*/; do
        name=$(basename "$p")
        tag=$name${KERNELS_ENV:+-$(echo "$KERNELS_ENV" | tr -c 'A-Za-z0-9\n' - | tr 'A-Z' 'a-z')}
        log "kernels $tag ($ncu)"
        env ${KERNELS_ENV:-} "$ncu" --metrics gpu__time_duration.sum --csv --clock-control none --cache-control none -c 30000 \
          --log-file "$out/ncu-$tag.csv" node dist/bench/gpuBench.mjs --pack "$p" --decode-only --bindings 'in place$' \
          --decode-contexts 128 --steps 4 --out "/tmp/ncu-$tag.json" 2>&1 | grep -v CleanUnusedInitializers | tail -5
        "${PYTHON:-python3}" native-models/bench/ncu_summary.py "$out/ncu-$tag.csv" 4 | tee "$out/kernels-$tag.txt"
        gzip -f "$out/ncu-$tag.csv"
      done
      ;;
    collect)
      [ -n "${OUT:-}" ] || { echo "collect: \$OUT is not set"; exit 2; }
      tar czf "$OUT/gpu-results.tar.gz" -C "$out" . && ls -l "$OUT"
      ;;
    *) echo "unknown step $step (setup export export-bg bench levers kernels ask collect)"; exit 2 ;;
  esac
done
log "results in $out"
ls -l "$out"
