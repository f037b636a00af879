#!/usr/bin/env python3
"""What a model's answers to a QA task look like beyond the metric: whether
they depend on the question, and whether they are spans of the context.

  answer_diagnostics.py GOLD.jsonl PREDICTIONS.jsonl [PREDICTIONS.jsonl ...]

GOLD.jsonl: `deca-data export` of the split; PREDICTIONS.jsonl: {"id",
"answer"} lines (deca-eval --output, training.save_val_predictions, or
scripts/decanlp_learning.py). Per file, one line of: distinct answers per
context against questions per context (1 means the question is ignored), the
share of answers that are a contiguous span of their (lowercased) context, the
share that begin with "the" beside the gold answers' share, and the most
frequent answer.
"""
import collections
import json
import sys


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    gold = [json.loads(line) for line in open(sys.argv[1])]
    questions = collections.Counter(g['context'] for g in gold)
    gold_the = sum(g['answers'][0].lower().startswith('the ') for g in gold) / len(gold)
    print('| predictions | distinct answers per context (questions per context) | span of the context | '
          'begins with "the" (gold) | most frequent answer |')
    print('|---|---:|---:|---:|---|')
    for path in sys.argv[2:]:
        pred = {}
        for line in open(path):
            r = json.loads(line)
            pred[r['id']] = r['answer']
        missing = [g['id'] for g in gold if g['id'] not in pred]
        if missing:
            raise SystemExit(f'error: {path} has no answer for {len(missing)} ids (first: {missing[0]})')
        answers = collections.defaultdict(set)
        for g in gold:
            answers[g['context']].add(pred[g['id']])
        distinct = sum(len(a) for a in answers.values()) / len(answers)
        span = sum(1 for g in gold if pred[g['id']].strip() and pred[g['id']].lower() in g['context'].lower()) / len(gold)
        the = sum(pred[g['id']].lower().startswith('the ') for g in gold) / len(gold)
        top, n = collections.Counter(pred.values()).most_common(1)[0]
        print(f'| {path} | {distinct:.2f} ({len(gold) / len(answers):.1f}) | {100 * span:.1f}% | '
              f'{100 * the:.1f}% ({100 * gold_the:.1f}%) | "{top[:40]}" ×{n} |')


if __name__ == '__main__':
    main()
