#!/usr/bin/env python3
"""Writes trivial-baseline predictions for the decathlon's validation splits.

  learning_baselines.py GOLD_DIR TRAIN_DIR OUT_DIR

GOLD_DIR and TRAIN_DIR hold `deca-data export` files (<task>.jsonl) of the
validation and training splits; OUT_DIR receives <task>.jsonl predictions
({"id", "answer"} per line) that `deca-eval --gold-dir --predictions-dir` scores.
The baselines (issue 9): the training majority label (SST, MultiNLI); the first
candidate (MWSC); the context's first sentence (SQuAD, CNN/DailyMail); the
source copied (IWSLT); "unanswerable" (QA-ZRE); the empty state "None" (WOZ);
the most frequent WikiSQL query shape, SELECT col FROM table WHERE col = value,
filled with the table's first two columns and the question's last word; and,
for QA-SRL (which the issue leaves open), the sentence's first word.
"""
import collections
import json
import os
import re
import sys


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def first_sentence(text):
    m = re.search(r"[.!?](?=\s)", text)
    return text[: m.end()] if m else text


def majority(train):
    return collections.Counter(ex["answers"][0] for ex in train).most_common(1)[0][0]


def first_candidate(question):
    # "Who feared violence? The councilmen or the demonstrators?"
    options = question.rstrip("?").split("? ")[-1]
    return options.split(" or ")[0]


def wikisql_shape(ex):
    header = ex.get("meta", {}).get("header") or ["col"]
    words = re.findall(r"\w+", ex["context"].split("--")[-1])
    where = header[1] if len(header) > 1 else header[0]
    return f"SELECT {header[0]} FROM table WHERE {where} = {words[-1] if words else ''}"


def baseline(task, ex, train):
    if task in ("sst", "multinli.in.out"):
        return majority(train)
    if task == "schema":
        return first_candidate(ex["question"])
    if task in ("squad", "cnn_dailymail"):
        return first_sentence(ex["context"])
    if task == "iwslt.en.de":
        return ex["context"]
    if task == "zre":
        return "unanswerable"
    if task == "woz.en":
        return "None"
    if task == "wikisql":
        return wikisql_shape(ex)
    if task == "srl":
        return ex["context"].split()[0] if ex["context"].split() else ""
    raise SystemExit(f"no baseline for task {task}")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    gold_dir, train_dir, out_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(os.listdir(gold_dir)):
        if not name.endswith(".jsonl"):
            continue
        task = name[: -len(".jsonl")]
        train_file = os.path.join(train_dir, name)
        train = read(train_file) if os.path.exists(train_file) else []
        majority_cache = {}
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as out:
            for ex in read(os.path.join(gold_dir, name)):
                if task in ("sst", "multinli.in.out"):
                    answer = majority_cache.setdefault(task, majority(train))
                else:
                    answer = baseline(task, ex, train)
                out.write(json.dumps({"id": ex["id"], "answer": answer}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
