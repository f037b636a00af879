#!/usr/bin/env bash
# Learning side by side (docs/learning.md): decaNLP's own train.py, unmodified,
# beside deca on the same data, tasks, batch token budget and size rule,
# learning-rate schedule and Adam settings, both validated on the same
# examples every VAL_EVERY updates and scored by one scorer (deca-eval).
#
#   scripts/learning_side_by_side.sh NAME OUT
#
# NAME is a task (squad, sst, woz.en, ...) or the name of a config in
# configs/learning whose curriculum trains several (decathlon: the ten tasks
# round robin); every task of the config's curriculum is trained, validated
# and reported.
#
# Arms (ARMS): A decaNLP; B deca with decaNLP's frozen input vectors (the
# like-for-like arm); C deca's default config for the task. Each arm runs once
# per seed (SEEDS), JOBS runs at once with one thread each (a fair race on one
# machine), in OUT/ARM-SEED. A deca run folder that is already there is
# continued with --resume (a killed session loses at most save_every steps);
# a decaNLP run is started over. Then scripts/learning_report.py writes, for
# each task, OUT/<task>.md (tables) and OUT/<task>.png (loss and metric
# against steps and against training seconds).
#
# Environment:
#   ARMS       arms to run (default "A C")
#   SEEDS      seeds (default "123 7")
#   STEPS      updates per run (default: the config's training.steps)
#   VAL_EVERY  updates between validations (default: the config's training.val_every)
#   CONFIG     deca's config (default configs/learning/NAME.json); its model,
#              batching and training sections set decaNLP's arguments too
#   DATA       deca's data root (default ../shared/data); for SQuAD, a root
#              whose squad/train-v1.1.json is the full training set
#   SCRATCH    decaNLP's scratch folder for arms A and B, set up as
#              ../shared/decanlp-bench/README.md says (SCRATCH/decaNLP, SCRATCH/revtok_src,
#              SCRATCH/.data with the same training file as DATA, SCRATCH/embeddings)
#   BENCH      ../shared/decanlp-bench (its stubs go on decaNLP's PYTHONPATH)
#   JOBS       runs at once (default 2), one thread each
#   DECA_BIN   deca's executables (default build/bin)
#   PYTHON     the interpreter with Debian's torch for decaNLP (default /usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ne 2 ]]; then
  sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
NAME=$1
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
ARMS=${ARMS:-A C}
SEEDS=${SEEDS:-123 7}
CONFIG=${CONFIG:-configs/learning/$NAME.json}
DATA=$(cd "${DATA:-../shared/data}" && pwd)
BENCH=${BENCH:-../shared/decanlp-bench}
JOBS=${JOBS:-2}
BIN=$(cd "${DECA_BIN:-build/bin}" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
[[ -f "$CONFIG" ]] || { echo "learning_side_by_side: no config $CONFIG" >&2; exit 2; }

# The config's values that decaNLP's arguments mirror.
read -r D HIDDEN HEADS DROPOUT WARMUP TOKENS RULE CSTEPS CVAL TASKS < <("$BIN/deca-train" --config "$CONFIG" --print-config |
  python3 -c '
import json, sys
c = json.load(sys.stdin)
m, b, t, phases = c["model"], c["batching"], c["training"], c["curriculum"]
tasks = list(dict.fromkeys(task for phase in phases for task in phase["tasks"]))
if len(tasks) > 1 and (len(phases) > 1 or phases[0]["mixing"] != "round_robin"):
    sys.exit("learning_side_by_side: decaNLP trains several tasks in one round-robin phase only")
print(m["dimension"], m["transformer_hidden"], m["transformer_heads"], m["dropout"], t["warmup"], b["max_tokens"],
      b["size_rule"], t["steps"], t["val_every"], " ".join(tasks))')
read -r -a TASK_LIST <<<"$TASKS"
STEPS=${STEPS:-$CSTEPS}
VAL_EVERY=${VAL_EVERY:-$CVAL}
if [[ "$RULE" != decanlp ]]; then
  echo "learning_side_by_side: $CONFIG must set batching.size_rule \"decanlp\" (decaNLP's batches)" >&2
  exit 2
fi
case " $ARMS " in *" A "*|*" B "*)
  SCRATCH=$(cd "${SCRATCH:?set SCRATCH to the decaNLP scratch folder of ../shared/decanlp-bench/README.md}" && pwd)
  for f in "$SCRATCH/decaNLP/train.py" "$SCRATCH/embeddings/glove.840B.300d.txt.pt"; do
    [[ -f "$f" ]] || { echo "learning_side_by_side: $f is missing (set SCRATCH up as $BENCH/README.md says)" >&2; exit 2; }
  done ;;
esac

# One tokenizer and data cache for every deca run (trained once, read by all).
mkdir -p "$OUT/shared" "$OUT/gold"
for task in "${TASK_LIST[@]}"; do
  "$BIN/deca-data" export --data-root "$DATA" --task "$task" --split validation >"$OUT/gold/$task.jsonl"
done
if [[ ! -f "$OUT/shared/tokenizer.model" ]]; then
  "$BIN/deca-data" tokenizer --config "$CONFIG" --data-root "$DATA" --output "$OUT/shared/tokenizer.model"
fi
deca_common=(--config "$CONFIG" --data-root "$DATA"
             --set "tokenizer.model=$OUT/shared/tokenizer.model" --set "data.cache_dir=$OUT/shared/cache"
             --set training.threads=1 --set "training.val_every=$VAL_EVERY" --set training.save_val_predictions=true)
if [[ ! -d "$OUT/shared/cache" ]]; then  # fill the cache once, before runs read it side by side
  "$BIN/deca-train" "${deca_common[@]}" --output "$OUT/shared/prime" --steps 1 --set training.val_every=0 --overwrite
  rm -rf "$OUT/shared/prime"
fi

decanlp_args() {  # seed
  echo --root "$SCRATCH" --data .data --embeddings embeddings --save "$SCRATCH/results" --exist_ok --no_commit \
    --no_tensorboard --devices -1 --train_tasks "${TASK_LIST[@]}" --train_batch_tokens "$TOKENS" --dimension "$D" \
    --transformer_hidden "$HIDDEN" --transformer_heads "$HEADS" --dropout_ratio "$DROPOUT" --warmup "$WARMUP" \
    --seed "$1" --val_batch_size 100 --save_every 100000000
}

if [[ " $ARMS " == *" B "* && ! -f "$OUT/shared/decanlp_vectors.txt" ]]; then
  # shellcheck disable=SC2046
  PYTHONPATH="$BENCH/stubs:$SCRATCH/revtok_src" "$PYTHON" scripts/decanlp_learning.py --decanlp "$SCRATCH/decaNLP" \
    --write-vectors "$OUT/shared/decanlp_vectors.txt" -- $(decanlp_args 123) --name vectors
fi

run_arm() {  # arm seed
  local arm=$1 seed=$2 dir="$OUT/$1-$2"
  case $arm in
    A)
      rm -rf "$dir" && mkdir -p "$dir"
      # shellcheck disable=SC2046
      PYTHONPATH="$BENCH/stubs:$SCRATCH/revtok_src" OMP_NUM_THREADS=1 "$PYTHON" scripts/decanlp_learning.py \
        --decanlp "$SCRATCH/decaNLP" --out "$dir" --steps "$STEPS" --val-every "$VAL_EVERY" --threads 1 -- \
        $(decanlp_args "$seed") --name "$NAME-A-$seed" >"$dir/log.txt" 2>&1 ;;
    B|C)
      local extra=()
      if [[ $arm == B ]]; then
        extra=(--set "model.embeddings_file=$OUT/shared/decanlp_vectors.txt" --set model.embedding_dim=400
               --set model.freeze_embeddings=true)
      fi
      if [[ -f "$dir/metrics.jsonl" ]]; then extra+=(--resume); fi
      "$BIN/deca-train" "${deca_common[@]}" --output "$dir" --steps "$STEPS" --set "training.seed=$seed" "${extra[@]}" \
        >>"$dir.log" 2>&1 ;;
    *) echo "learning_side_by_side: unknown arm $arm (A, B or C)" >&2; return 2 ;;
  esac
}

status=0
for seed in $SEEDS; do
  for arm in $ARMS; do
    while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || status=1; done
    echo "learning_side_by_side: $NAME arm $arm seed $seed -> $OUT/$arm-$seed"
    run_arm "$arm" "$seed" &
  done
done
while (($(jobs -rp | wc -l) > 0)); do wait -n || status=1; done
"$PYTHON" scripts/learning_report.py "$OUT" --gold "$OUT/gold" --deca-eval "$BIN/deca-eval"
exit $status
