#!/usr/bin/env bash
# The quick start on the embedded sample data (data/sample): look at the
# triples, train a small MQAN on all ten tasks, score it, ask it a question.
# About a minute on 2 cores after the build (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${DECA_BUILD_DIR:-build}/bin"
RUN=runs/quickstart

echo "== The ten tasks of the sample data, as (context, question, answer) triples"
"$BIN/deca-data" stats --data-root data/sample
"$BIN/deca-data" export --data-root data/sample --task woz.en --split validation | head -n 2

echo "== Training (configs/quickstart.json) into $RUN"
rm -rf "$RUN"
"$BIN/deca-train" --config configs/quickstart.json --output "$RUN"

echo "== Scoring the best checkpoint on the ten validation splits"
"$BIN/deca-eval" --checkpoint "$RUN" --data-root data/sample --output "$RUN/predictions" \
  --report-md "$RUN/report.md" --junit "$RUN/junit.xml" > "$RUN/report.json"
echo "report: $RUN/report.json, $RUN/report.md; predictions: $RUN/predictions/"

echo "== Asking a question"
echo '{"id": "q1", "context": "The museum of Oslo was designed by Hana and opened in 1900.", "question": "Who designed the museum of Oslo?"}' \
  | "$BIN/deca-predict" --checkpoint "$RUN" --input - --beam 4 --scores
