#!/usr/bin/env python3
"""Scores and compares learning runs: the validation answers every run wrote
(deca with training.save_val_predictions, decaNLP through
scripts/decanlp_learning.py) are scored by one scorer, deca-eval, and each
task gets a table and a plot (PNG) of the training loss and the validation
metric against steps and against training seconds, one line per run.

  learning_report.py OUT --gold GOLD_DIR [--deca-eval build/bin/deca-eval] [--runs A-123 C-123 ...]

OUT holds one folder per run (scripts/learning_side_by_side.sh names them
ARM-SEED: A decaNLP, B deca with decaNLP's frozen vectors, C deca's default;
any other name is an ablation and keeps its name), each with metrics.jsonl and
validation/step-NNNNNNNN/<task>.jsonl. GOLD_DIR/<task>.jsonl is the task's
validation split as `deca-data export` writes it; when a run answered only
part of it (decaNLP drops what is beyond its length limits), every run is
scored on the examples all of them answered (OUT/gold-common). Scores are
cached in each run's scores.jsonl. Writes OUT/<task>.md and OUT/<task>.png; needs matplotlib
for the plot (the tables are written without it).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ARMS = {'A': 'decaNLP', 'B': 'deca, decaNLP\'s frozen vectors', 'C': 'deca default'}


def label(run):
    m = re.fullmatch(r'([ABC])-(\d+)', run)
    return f'{ARMS[m.group(1)]} (seed {m.group(2)})' if m else run


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def answer_files(run_dir):
    """(step, task, path) of every validation answer file of a run."""
    folder = os.path.join(run_dir, 'validation')
    if not os.path.isdir(folder):
        return
    for step_dir in sorted(os.listdir(folder)):
        m = re.fullmatch(r'step-(\d+)', step_dir)
        if not m:
            continue
        for name in sorted(os.listdir(os.path.join(folder, step_dir))):
            if name.endswith('.jsonl') and not name.endswith('.logical_forms.jsonl'):
                yield int(m.group(1)), name[:-len('.jsonl')], os.path.join(folder, step_dir, name)


def common_golds(out, runs, gold_dir):
    """Per task, the gold file every run is scored against: the task's whole
    validation split, or, when some run answered only part of it (decaNLP drops
    validation examples longer than its limits), the examples every run
    answered, written to OUT/gold-common/<task>.jsonl. -> {task: (path, ids scored, examples in the split)}"""
    ids = {}
    for run in runs:
        for _, task, path in answer_files(os.path.join(out, run)):
            answered = {r['id'] for r in read_jsonl(path)}
            ids[task] = answered if task not in ids else ids[task] & answered
    golds = {}
    for task, common in ids.items():
        gold = os.path.join(gold_dir, f'{task}.jsonl')
        if not os.path.exists(gold):
            sys.exit(f'error: no gold file {gold} for the answers of {task}')
        rows = read_jsonl(gold)
        if len(common) < len(rows):
            os.makedirs(os.path.join(out, 'gold-common'), exist_ok=True)
            gold = os.path.join(out, 'gold-common', f'{task}.jsonl')
            with open(gold, 'w') as f:
                for r in rows:
                    if r['id'] in common:
                        f.write(json.dumps(r, ensure_ascii=False) + '\n')
        golds[task] = (gold, {r['id'] for r in rows} & common, len(rows))
    return golds


def score(run_dir, golds, deca_eval):
    """Every validation answer file of the run, scored once on the examples of
    `golds` (cached in scores.jsonl, with the number of examples scored)."""
    cache_path = os.path.join(run_dir, 'scores.jsonl')
    cached = {(r['step'], r['task']): r for r in read_jsonl(cache_path)}
    elapsed = {(r['step'], r['task']): r.get('elapsed_seconds')
               for r in read_jsonl(os.path.join(run_dir, 'metrics.jsonl')) if r.get('type') == 'validation'}
    for step, task, path in answer_files(run_dir):
        gold, keep, _ = golds[task]
        examples = len(keep)
        if cached.get((step, task), {}).get('examples') == examples:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            kept = os.path.join(tmp, 'answers.jsonl')
            with open(kept, 'w') as f:
                for r in read_jsonl(path):
                    if r['id'] in keep:
                        f.write(json.dumps(r, ensure_ascii=False) + '\n')
            report = os.path.join(tmp, 'report.json')
            subprocess.run([deca_eval, '--task', task, '--gold', gold, '--predictions', kept, '--report-json', report],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = json.load(open(report))
        values = r['tasks'][task]
        row = dict(step=step, task=task, decascore=r['decascore']['entries'][task], examples=examples,
                   elapsed_seconds=elapsed.get((step, task)), **values)
        cached[(step, task)] = row
        with open(cache_path, 'a') as f:
            f.write(json.dumps(row) + '\n')
    return cached


def losses(run_dir, task):
    return [(r['step'], r['loss'], r.get('elapsed_seconds')) for r in read_jsonl(os.path.join(run_dir, 'metrics.jsonl'))
            if r.get('type') == 'train' and r.get('task') == task]


def smooth(points, window=4):
    out = []
    for i in range(len(points)):
        chunk = points[max(0, i - window + 1):i + 1]
        out.append(sum(chunk) / len(chunk))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='folder of the runs')
    parser.add_argument('--gold', required=True, help='folder with <task>.jsonl validation gold files')
    parser.add_argument('--deca-eval', default='build/bin/deca-eval')
    parser.add_argument('--runs', nargs='*', help='run folders in OUT to compare (default: every one)')
    args = parser.parse_args()
    runs = args.runs or sorted(d for d in os.listdir(args.out)
                               if os.path.exists(os.path.join(args.out, d, 'metrics.jsonl')))
    if not runs:
        sys.exit(f'error: no run folder with metrics.jsonl in {args.out}')
    golds = common_golds(args.out, runs, args.gold)
    scores = {run: score(os.path.join(args.out, run), golds, args.deca_eval) for run in runs}
    tasks = sorted({task for s in scores.values() for (_, task) in s})
    for task in tasks:
        steps = sorted({step for s in scores.values() for (step, t) in s if t == task})
        _, ids, of = golds[task]
        examples = len(ids)
        subset = '' if examples == of else (f' (on the {examples} of its {of} examples that every run answered; '
                                            'decaNLP drops the ones beyond its length limits)')
        lines = [f'# {task}: validation {task}\'s decaScore metric, scored by deca-eval{subset}', '',
                 '| step | ' + ' | '.join(label(r) for r in runs) + ' |', '|---:|' + '---:|' * len(runs)]
        for step in steps:
            cells = [f"{scores[r][(step, task)]['decascore']:.2f}" if (step, task) in scores[r] else '' for r in runs]
            lines.append(f'| {step:,} | ' + ' | '.join(cells) + ' |')
        lines += ['', 'Training seconds (validation excluded) at each validation:', '',
                  '| step | ' + ' | '.join(label(r) for r in runs) + ' |', '|---:|' + '---:|' * len(runs)]
        for step in steps:
            cells = []
            for r in runs:
                e = scores[r].get((step, task), {}).get('elapsed_seconds')
                cells.append(f'{e:,.0f}' if e is not None else '')
            lines.append(f'| {step:,} | ' + ' | '.join(cells) + ' |')
        with open(os.path.join(args.out, f'{task}.md'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        print('\n'.join(lines) + '\n')
        plot(args.out, task, runs, scores)


def plot(out, task, runs, scores):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('note: matplotlib is missing, no plot (apt-get install python3-matplotlib)', file=sys.stderr)
        return
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    for r in runs:
        name = label(r)
        tl = losses(os.path.join(out, r), task)
        if tl:
            axes[0][0].plot([p[0] for p in tl], smooth([p[1] for p in tl]), label=name)
            timed = [p for p in tl if p[2] is not None]
            axes[0][1].plot([p[2] for p in timed], smooth([p[1] for p in timed]), label=name)
        v = sorted((step, row) for (step, t), row in scores[r].items() if t == task)
        if v:
            axes[1][0].plot([s for s, _ in v], [row['decascore'] for _, row in v], marker='o', label=name)
            timed = [(row['elapsed_seconds'], row['decascore']) for _, row in v if row.get('elapsed_seconds') is not None]
            axes[1][1].plot([t for t, _ in timed], [m for _, m in timed], marker='o', label=name)
    axes[0][0].set(title=f'{task}: training loss (mean of 4 log lines)', xlabel='step', ylabel='token NLL')
    axes[0][1].set(title=f'{task}: training loss', xlabel='training seconds', ylabel='token NLL')
    axes[1][0].set(title=f'{task}: validation metric (deca-eval)', xlabel='step')
    axes[1][1].set(title=f'{task}: validation metric (deca-eval)', xlabel='training seconds')
    for row in axes:
        for ax in row:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, f'{task}.png'), dpi=90)


if __name__ == '__main__':
    main()
