#!/usr/bin/env bash
# The transfer experiments of issue 13, on the CPU and the real data:
#  1. fine-tuning: an MQAN pretrained on nine decathlon tasks (all but SST) is
#     trained on SST from its checkpoint (--init-from), and the same model from
#     scratch (same tokenizer, config and seed); SST validation every 25 steps.
#  2. continual learning: the pretrained model continues on SST alone, with
#     and without rehearsal of the nine (30% of the steps); the nine tasks are
#     scored before (deca-eval on the pretrained checkpoint; SST zero-shot) and
#     after (the runs' validation lines).
#   scripts/transfer_experiments.sh [OUT]      (default runs/transfer)
# Environment: DECA_DATA_ROOT (default ../shared/data), DECA_BIN (build/bin).
# Writes OUT/report.md; the pretraining is reused when OUT/pretrained has it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/transfer}"
DATA="${DECA_DATA_ROOT:-../shared/data}"
BIN="${DECA_BIN:-build/bin}"
OLD=(squad iwslt.en.de cnn_dailymail multinli.in.out srl zre woz.en wikisql schema)
if [[ ! -d "$DATA" ]]; then
  echo "transfer_experiments: no task data at $DATA (set DECA_DATA_ROOT)" >&2
  exit 2
fi
mkdir -p "$OUT"
t0=$(date +%s)
if [[ ! -f "$OUT/pretrained/checkpoints/last/model.safetensors" ]]; then
  "$BIN/deca-train" --config configs/transfer/pretrain.json --data-root "$DATA" --output "$OUT/pretrained" --overwrite
fi
t1=$(date +%s)

# 1. Fine-tuning against training from scratch.
"$BIN/deca-train" --config configs/transfer/sst.json --data-root "$DATA" --output "$OUT/finetuned" --overwrite \
  --init-from "$OUT/pretrained"
"$BIN/deca-train" --config configs/transfer/sst.json --data-root "$DATA" --output "$OUT/scratch" --overwrite \
  --set "tokenizer.model=$(realpath "$OUT/pretrained/tokenizer.model")"
t2=$(date +%s)

# 2. Continual learning, with and without rehearsal.
"$BIN/deca-eval" --checkpoint "$OUT/pretrained" --data-root "$DATA" --tasks "${OLD[@]}" sst --max-examples 100 \
  --report-json "$OUT/before.json" --report-md "$OUT/before.md" > /dev/null
old_json=$(printf '"%s",' "${OLD[@]}")
"$BIN/deca-train" --config configs/transfer/continual.json --data-root "$DATA" --output "$OUT/continual-plain" \
  --overwrite --init-from "$OUT/pretrained"
"$BIN/deca-train" --config configs/transfer/continual.json --data-root "$DATA" --output "$OUT/continual-rehearsal" \
  --overwrite --init-from "$OUT/pretrained" \
  --set "curriculum.0.rehearse=[${old_json%,}]" --set curriculum.0.rehearsal=0.3
t3=$(date +%s)

python3 scripts/transfer_report.py "$OUT" | tee "$OUT/report.md"
echo "pretraining $((t1 - t0)) s, fine-tuning $((t2 - t1)) s, continual $((t3 - t2)) s" | tee -a "$OUT/report.md"
