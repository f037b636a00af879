#!/usr/bin/env bash
# Data-parallel training speed on this machine's CPU: the same run with 1, 2
# and 4 processes (Gloo on 127.0.0.1, launched with torchrun's environment
# variables), the cores split among them (one thread each at least). Prints a
# Markdown table: steps/s, examples/s, tokens/s and the all-reduce time per step.
#   scripts/bench_distributed.sh [steps] [processes...]     (default: 60 steps; 1 2 4)
# Workloads: the quick start's small MQAN, and the decathlon's MQAN
# (configs/decanlp.json: d=200) at 2,000-token batches; both on data/sample.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${DECA_BUILD_DIR:-build}/bin"
STEPS="${1:-60}"
shift || true
PROCS=("${@:-1 2 4}")
read -r -a PROCS <<< "${PROCS[*]}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CORES="$(nproc)"
PORT=$((29500 + RANDOM % 1000))

declare -A CONFIG=([quickstart]="configs/quickstart.json" [decanlp-d200]="configs/decanlp.json")
declare -A EXTRA=([quickstart]="" [decanlp-d200]="--set batching.max_tokens=2000 --set tokenizer.vocab_size=8000")

echo "| workload | processes | threads each | steps/s | examples/s | tokens/s | all-reduce ms/step | parameters |"
echo "|---|---|---|---|---|---|---|---|"
for workload in quickstart decanlp-d200; do
  # One tokenizer for all the runs of a workload.
  tok="$WORK/$workload-tok"
  "$BIN/deca-train" --config "${CONFIG[$workload]}" --data-root data/sample --output "$tok" --steps 0 \
    ${EXTRA[$workload]} --set training.val_every=0 > "$WORK/tok.log" 2>&1
  for n in "${PROCS[@]}"; do
    run="$WORK/$workload-$n"
    threads=$(( CORES / n > 0 ? CORES / n : 1 ))
    pids=()
    for ((r = 0; r < n; r++)); do
      RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$PORT \
        "$BIN/deca-train" --config "${CONFIG[$workload]}" --data-root data/sample --output "$run" --steps "$STEPS" \
        ${EXTRA[$workload]} --set tokenizer.model="$tok/tokenizer.model" --set training.val_every=0 \
        --set training.log_every=$((STEPS / 3)) --set training.save_every=$((STEPS * 10)) \
        --set training.threads=$threads > "$run.rank$r.log" 2>&1 &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    PORT=$((PORT + 1))
    params=$(grep -o '[0-9.]* M parameters' "$run.rank0.log" | head -1)
    # The first third is warm-up: the mean of the lines after it.
    python3 - "$run/metrics.jsonl" "$workload" "$n" "$threads" "$params" <<'EOF'
import json, sys
path, workload, n, threads, params = sys.argv[1:]
by_step = {}
for line in open(path):
    j = json.loads(line)
    if j["type"] == "train":
        by_step.setdefault(j["step"], j)  # one line per logged step is enough: the rates are per window
steps = sorted(by_step)[1:]
mean = lambda key: sum(by_step[s].get(key, 0.0) for s in steps) / len(steps)
allreduce = f"{mean('allreduce_ms'):.1f}" if int(n) > 1 else "-"
print(f"| {workload} | {n} | {threads} | {mean('steps_per_s'):.2f} | {mean('examples_per_s'):.1f} | "
      f"{mean('tokens_per_s'):.0f} | {allreduce} | {params} |")
EOF
  done
done
