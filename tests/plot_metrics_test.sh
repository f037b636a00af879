#!/usr/bin/env bash
# scripts/plot_metrics.py on the metrics.jsonl of real (tiny) runs: a PNG
# against steps, one against wall-clock hours, two runs on one plot; errors
# for a file that is not JSON and for a run without lines.
#   tests/plot_metrics_test.sh BIN_DIR     (ctest passes the build's bin/)
# PYTHON: the interpreter (default /usr/bin/python3, whose matplotlib
# scripts/setup.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
is_png() { [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]]; }

"$BIN/deca-train" --config configs/quickstart.json --data-root data/sample --output "$tmp/run" --steps 4 \
  --set training.log_every=1 --set training.val_every=2 --set training.val_max_examples=4 --threads 1 2>"$tmp/train.log" ||
  { cat "$tmp/train.log"; fail "deca-train"; }
"$PYTHON" scripts/plot_metrics.py "$tmp/run" >"$tmp/out.txt" || fail "plot against steps"
[[ "$(cat "$tmp/out.txt")" == "$tmp/run/curves.png" ]] || fail "printed $(cat "$tmp/out.txt"), expected the PNG's path"
is_png "$tmp/run/curves.png" || fail "curves.png is not a PNG"
"$PYTHON" scripts/plot_metrics.py "$tmp/run" --x hours --output "$tmp/hours.png" >/dev/null || fail "plot against hours"
is_png "$tmp/hours.png" || fail "hours.png is not a PNG"

# Several runs on one plot (a second run with another seed); --output is needed then.
"$BIN/deca-train" --config configs/quickstart.json --data-root data/sample --output "$tmp/run2" --steps 4 \
  --set training.log_every=1 --set training.val_every=2 --set training.val_max_examples=4 --set training.seed=5 \
  --threads 1 2>"$tmp/train2.log" || { cat "$tmp/train2.log"; fail "deca-train (second run)"; }
"$PYTHON" scripts/plot_metrics.py "$tmp/run" "$tmp/run2" --x hours --output "$tmp/both.png" >/dev/null || fail "two runs"
is_png "$tmp/both.png" || fail "both.png is not a PNG"
if "$PYTHON" scripts/plot_metrics.py "$tmp/run" "$tmp/run2" 2>"$tmp/err.txt"; then fail "two runs without --output"; fi
grep -q "give --output" "$tmp/err.txt" || fail "unexpected message: $(cat "$tmp/err.txt")"

echo '{"type": "train", "step": 1' >"$tmp/bad.jsonl"
if "$PYTHON" scripts/plot_metrics.py "$tmp/bad.jsonl" 2>"$tmp/err.txt"; then fail "a cut line was accepted"; fi
grep -q "bad.jsonl:1: not JSON" "$tmp/err.txt" || fail "no file:line in: $(cat "$tmp/err.txt")"
: >"$tmp/empty.jsonl"
if "$PYTHON" scripts/plot_metrics.py "$tmp/empty.jsonl" 2>"$tmp/err.txt"; then fail "an empty file was accepted"; fi
grep -q "no training or validation lines" "$tmp/err.txt" || fail "unexpected message: $(cat "$tmp/err.txt")"
echo "plot_metrics: PNGs against steps and hours, two runs on one, errors named"
