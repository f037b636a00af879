#!/usr/bin/env python3
"""The tables of scripts/transfer_experiments.sh, from its run folders.

usage: transfer_report.py OUT
"""
import json
import sys
from pathlib import Path


def validations(run):
    """step -> task -> (decaScore metric, value), from the run's metrics.jsonl."""
    out = {}
    for line in (Path(run) / "metrics.jsonl").read_text().splitlines():
        j = json.loads(line)
        if j.get("type") == "validation" and "decascore_metric" in j:
            out.setdefault(j["step"], {})[j["task"]] = (j["decascore_metric"], j[j["decascore_metric"]])
    return out


def first_step_reaching(curve, value):
    return next((step for step, v in curve if v >= value), None)


def main(out):
    out = Path(out)
    print("## 1. Fine-tuning onto SST after nine tasks, against training from scratch\n")
    curves = {}
    for name in ("finetuned", "scratch"):
        curves[name] = [(step, tasks["sst"][1]) for step, tasks in sorted(validations(out / name).items())]
    print("| step | SST em, fine-tuned (--init-from) | SST em, from scratch |")
    print("|---:|---:|---:|")
    scratch = dict(curves["scratch"])
    for step, v in curves["finetuned"]:
        print(f"| {step} | {v:.1f} | {scratch.get(step, float('nan')):.1f} |")
    print()
    print("| SST em reached | first step, fine-tuned | first step, from scratch |")
    print("|---:|---:|---:|")
    for target in (55, 60, 65, 70, 75, 80):
        a, b = first_step_reaching(curves["finetuned"], target), first_step_reaching(curves["scratch"], target)
        print(f"| {target} | {a if a else 'not reached'} | {b if b else 'not reached'} |")

    print("\n## 2. Continual learning: SST added, with and without rehearsal\n")
    before = json.loads((out / "before.json").read_text())
    seen = before.get("seen_in_training", {})
    after = {}
    for name in ("continual-plain", "continual-rehearsal"):
        v = validations(out / name)
        after[name] = v[max(v)]
    print("| task | metric | before (pretrained) | after, no rehearsal | after, rehearsal 30% |")
    print("|---|---|---:|---:|---:|")
    change = {"continual-plain": [], "continual-rehearsal": []}
    for task, entry in before["decascore"]["entries"].items():
        metric = after["continual-plain"][task][0]
        cells = []
        for name in ("continual-plain", "continual-rehearsal"):
            value = after[name][task][1]
            cells.append(f"{value:.1f} ({value - entry:+.1f})")
            if seen.get(task, True):
                change[name].append(value - entry)
        mark = "" if seen.get(task, True) else " (zero-shot before)"
        print(f"| {task}{mark} | {metric} | {entry:.1f} | {cells[0]} | {cells[1]} |")
    for name, label in (("continual-plain", "no rehearsal"), ("continual-rehearsal", "rehearsal 30%")):
        d = change[name]
        print(f"\nMean change of the nine earlier tasks' scores, {label}: {sum(d) / len(d):+.2f} points")


if __name__ == "__main__":
    main(sys.argv[1])
