#!/usr/bin/env python3
"""Prints the learning check's table (markdown): each task's decaScore metric
for the trained model beside its trivial baseline and decaNLP's published MQAN.

  learning_table.py BASELINE_REPORT.json MODEL_REPORT.json

Both reports are `deca-eval --report-json` files.
"""
import json
import sys

# decaNLP's published results: MQAN (QA-first), Aug 2018, no CoVe (590.5),
# the published decathlon model whose inputs match deca's (no CoVe).
PUBLISHED = {"squad": 74.4, "iwslt.en.de": 18.6, "cnn_dailymail": 24.3, "multinli.in.out": 71.5, "sst": 87.4,
             "srl": 78.4, "zre": 37.6, "woz.en": 84.8, "wikisql": 64.8, "schema": 48.7}


# Each task's decaScore metric, as deca-eval names it.
METRIC = {"squad": "nf1", "iwslt.en.de": "bleu", "cnn_dailymail": "avg_rouge", "multinli.in.out": "em", "sst": "em",
          "srl": "nf1", "zre": "corpus_f1", "woz.en": "joint_goal_em", "wikisql": "lfem", "schema": "em"}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
        base = json.load(f)["decascore"]["entries"]
    with open(sys.argv[2]) as f:
        report = json.load(f)
    model = report["decascore"]["entries"]
    print("| task | metric | trivial baseline | deca | above baseline | decaNLP MQAN (published) |")
    print("|---|---|---:|---:|---|---:|")
    totals = [0.0, 0.0, 0.0]
    for task, published in PUBLISHED.items():
        b, m = base.get(task), model.get(task)
        metric = METRIC[task]
        cells = [f"{v:.1f}" if v is not None else "–" for v in (b, m)]
        above = "yes" if b is not None and m is not None and m > b else "no"
        print(f"| {task} | {metric} | {cells[0]} | {cells[1]} | {above} | {published:.1f} |")
        totals[0] += b or 0.0
        totals[1] += m or 0.0
        totals[2] += published
    print(f"| **decaScore** | | {totals[0]:.1f} | {totals[1]:.1f} | | {totals[2]:.1f} |")


if __name__ == "__main__":
    main()
