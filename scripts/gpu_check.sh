#!/usr/bin/env bash
# The GPU check of issue 12, for a machine with a CUDA PyTorch and nothing else
# of deca's dependencies (no network there): its Python torch provides LibTorch
# (torch.utils.cmake_prefix_path); Debian 12's packages of the other
# dependencies travel as .deb files in .deps/ (ignored by git) and are unpacked
# into .deps/root. Builds deca against them, runs the CUDA tests, then the GPU
# benchmark: training steps of decaNLP's MQAN in fp32, tf32 and bf16, and
# greedy and beam-4 decoding of every task; prints one summary table.
#   scripts/gpu_check.sh fetch    where apt-get works: download the .deb files into .deps/debs
#   scripts/gpu_check.sh          on the GPU machine (carry .deps): build, test, benchmark
# Environment: TORCH_PREFIX (LibTorch's CMake prefix, default: python3's torch),
# DATA_ROOT (default data/sample), STEPS (measured training steps, default 40).
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS="$PWD/.deps"
PACKAGES=(nlohmann-json3-dev libcli11-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
          libsentencepiece-dev libsentencepiece0 libgtest-dev libgmock-dev libgloo-dev)

if [[ "${1:-}" == fetch ]]; then
  mkdir -p "$DEPS/debs"
  (cd "$DEPS/debs" && apt-get download "${PACKAGES[@]}")
  echo "gpu_check: $(ls "$DEPS/debs" | wc -l) packages in $DEPS/debs ($(du -sh "$DEPS/debs" | cut -f1))"
  exit 0
fi

start=$(date +%s)
if ! ls "$DEPS"/debs/*.deb > /dev/null 2>&1; then
  echo "gpu_check: no packages in $DEPS/debs: run 'scripts/gpu_check.sh fetch' where apt-get works, and carry .deps" >&2
  exit 2
fi
rm -rf "$DEPS/root"
for f in "$DEPS"/debs/*.deb; do dpkg -x "$f" "$DEPS/root"; done
ROOT="$DEPS/root/usr"
export LD_LIBRARY_PATH="$ROOT/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
TORCH_PREFIX="${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}"
BUILD=build-gpu
OUT="${OUT:-$BUILD/gpu-check}"
mkdir -p "$OUT"

echo "== build against $TORCH_PREFIX"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$ROOT" \
  -DPKG_CONFIG_EXECUTABLE=/nonexistent > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
grep -E "LibTorch|backends" "$OUT/cmake.log" || true
cmake --build "$BUILD" -j "$(nproc)" --target deca_torch_tests deca-train deca-bench > "$OUT/build.log" 2>&1 ||
  { grep -E "error|Error" "$OUT/build.log" | head -30; exit 1; }
echo "built in $(( $(date +%s) - start )) s"

echo "== CUDA tests"
"$BUILD/bin/deca_torch_tests" --gtest_filter='*Cuda*:*Bf16*:Models/*:Distributed.WorldSizeOne*' 2>&1 | tee "$OUT/tests.log" |
  grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|PASSED|FAILED TEST" || true

echo "== benchmark"
DATA_ROOT="${DATA_ROOT:-data/sample}"
STEPS="${STEPS:-40}"
bench="$BUILD/bin/deca-bench"
: > "$OUT/bench.jsonl"
for precision in fp32 tf32 bf16; do
  # Each also writes a Kineto trace of three steps (taken after the timed ones).
  "$bench" train --config configs/decanlp.json --data-root "$DATA_ROOT" --output "$OUT/work" --device cuda \
    --precision "$precision" --steps "$STEPS" --warmup 5 --flops --profile "$OUT/train-trace-$precision.json" \
    2>> "$OUT/bench.log" | tee -a "$OUT/bench.jsonl" > /dev/null
done
for task in squad iwslt.en.de cnn_dailymail multinli.in.out sst srl zre woz.en wikisql schema; do
  for beam in 1 4; do
    "$bench" decode --config configs/decanlp.json --data-root "$DATA_ROOT" --output "$OUT/work" --device cuda \
      --task "$task" --beam "$beam" 2>> "$OUT/bench.log" | head -1 >> "$OUT/bench.jsonl"
  done
done
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>/dev/null || true

python3 - "$OUT/bench.jsonl" "$OUT/gpu.txt" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
gpu = open(sys.argv[2]).read().strip() or "unknown GPU"
print(f"\n== summary ({gpu})")
print("| training | steps/s (synchronised per phase) | examples/s | target tokens/s | hours for 500k steps | fwd/bwd/opt share | GPU busy in trace | peak GPU MB |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["bench"] == "train":
        print(f"| {r['precision']}, {r['max_tokens']}-token batches, {r['parameters']/1e6:.1f} M parameters | {r['steps_per_s']:.2f} ({r['steps_per_s_synchronised']:.2f}) | "
              f"{r['examples_per_s']:.0f} | {r['target_tokens_per_s']:.0f} | {r['hours_for_500k_steps']:.1f} (decaNLP: ~72 V100 hours) | "
              f"{r['forward_share']:.2f}/{r['backward_share']:.2f}/{r['optimizer_share']:.2f} | {r.get('gpu_busy_share', float('nan')):.0%} | {r.get('peak_gpu_mb', 0):.0f} |")
print("\n| decoding | examples | greedy examples/s | beam-4 examples/s |")
print("|---|---|---|---|")
dec = {}
for r in rows:
    if r["bench"] == "decode":
        dec.setdefault(r["task"], {})[r["beam"]] = r
for task, by_beam in dec.items():
    g, b = by_beam.get(1), by_beam.get(4)
    print(f"| {task} | {(g or b)['examples']} | {g['examples_per_s']:.1f} | {b['examples_per_s'] if b else float('nan'):.1f} |")
PY
echo "gpu_check: $(( $(date +%s) - start )) s in all; logs and the trace in $OUT"
