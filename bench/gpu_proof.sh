#!/bin/bash
# The GPU rows of docs/BENCHMARKS.md in one device call. After `bash ../shared/gpu/prepare.sh`
# here, on the CUDA machine from the project's root:
#   MODELS="1b 8b" bash .gpu/device.sh bash bench/gpu_proof.sh
# device.sh builds llama.cpp with CUDA, writes the models (Llama-3.2-1B / 3.1-8B shapes, Q4_K_M)
# and runs llama-bench on them; this script adds llama-server to that build (about 20 s) and runs
# bench/engine_throughput.py on each model with every layer on the GPU: once plain, once with
# backend sampling in both engines (the stretch target). Tables go to stdout and $OUT/gpu-tables.md.
# RUNS (pairs, default 5) and TOKENS (default 256) shorten or lengthen it.
set -o pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -n "${LLAMA_BENCH:-}" ] || { echo "run this through .gpu/device.sh (it sets LLAMA_BENCH and the models)"; exit 2; }
bin=$(dirname "$LLAMA_BENCH"); build=$(dirname "$bin")
export HEARTH_HOME=${HEARTH_HOME:-/tmp/hearth-home}  # the engine's state folder; no platformdirs needed
if [ ! -x "$bin/llama-server" ]; then
  echo "adding llama-server to $build ..."
  { cmake "$build" -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
      && cmake --build "$build" -j"$(nproc)" --target llama-server; } > "$OUT/server-build.log" 2>&1 \
    || { grep -E "error|FAILED" "$OUT/server-build.log" | head; exit 1; }
fi
status=0
for m in ${MODELS:-1b}; do
  var=GPU_MODEL_${m^^}; model=${!var}
  [ -f "$model" ] || { echo "no model for $m ($var)"; status=1; continue; }
  for extra in "--llama-bench" "--backend-sampling"; do
    echo "== $m $extra"
    python3 bench/engine_throughput.py --ref-bin "$bin" --model "$model" --gpu-layers -1 --flash-attn on \
      --runs "${RUNS:-5}" --tokens "${TOKENS:-256}" --settle 0.1 $extra 2>> "$OUT/bench.log" \
      | tee -a "$OUT/gpu-tables.md" || { tail -20 "$OUT/bench.log"; status=1; }
  done
done
exit $status
