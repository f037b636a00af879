#!/usr/bin/env bash
# The learning check (issue 9): one model trained on all ten decathlon tasks of
# the real data for a fixed budget on the CPU, then each task's validation
# metric beside its trivial baseline and decaNLP's published MQAN.
#   scripts/learning_check.sh [OUT]      (default runs/learning_check)
# Environment: DECA_DATA_ROOT (default ../shared/data), DECA_BIN (build/bin),
# DECA_CONFIG (configs/learning_check.json), DECA_STEPS (the config's steps).
# Writes OUT/table.md, OUT/baseline.json and OUT/model.json.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/learning_check}"
DATA="${DECA_DATA_ROOT:-../shared/data}"
BIN="${DECA_BIN:-build/bin}"
CONFIG="${DECA_CONFIG:-configs/learning_check.json}"
TASKS=(squad iwslt.en.de cnn_dailymail multinli.in.out sst srl zre woz.en wikisql schema)
if [[ ! -d "$DATA" ]]; then
  echo "learning_check: no task data at $DATA (set DECA_DATA_ROOT)" >&2
  exit 2
fi
mkdir -p "$OUT/gold" "$OUT/train" "$OUT/baseline"
for t in "${TASKS[@]}"; do
  "$BIN/deca-data" export --data-root "$DATA" --task "$t" --split validation >"$OUT/gold/$t.jsonl"
  "$BIN/deca-data" export --data-root "$DATA" --task "$t" --split train >"$OUT/train/$t.jsonl"
done
python3 scripts/learning_baselines.py "$OUT/gold" "$OUT/train" "$OUT/baseline"
"$BIN/deca-eval" --gold-dir "$OUT/gold" --predictions-dir "$OUT/baseline" --report-json "$OUT/baseline.json" >/dev/null

steps=()
if [[ -n "${DECA_STEPS:-}" ]]; then steps=(--steps "$DECA_STEPS"); fi
start=$(date +%s)
"$BIN/deca-train" --config "$CONFIG" --data-root "$DATA" --output "$OUT/run" --overwrite "${steps[@]}"
trained=$(date +%s)
"$BIN/deca-eval" --checkpoint "$OUT/run/checkpoints/last" --data-root "$DATA" --tasks "${TASKS[@]}" \
  --output "$OUT/predictions" --report-json "$OUT/model.json" >/dev/null
python3 scripts/learning_table.py "$OUT/baseline.json" "$OUT/model.json" | tee "$OUT/table.md"
echo "training: $((trained - start)) s, evaluation: $(($(date +%s) - trained)) s" | tee -a "$OUT/table.md"
