#!/usr/bin/env python3
"""Turns runs' metrics.jsonl into a PNG of the training loss per task and the
validation decaScore and per-task metrics, against steps or wall-clock hours;
several runs go on one plot, one line per run and task.

Usage: python3 scripts/plot_metrics.py runs/quickstart [--output runs/quickstart/curves.png] [--x hours]
       python3 scripts/plot_metrics.py runs/a runs/b --output compare.png
Needs matplotlib (scripts/setup.sh installs Debian's python3-matplotlib; or pip install matplotlib).
"""
import argparse
import collections
import json
import os
import sys


def read_run(path, x_axis):
    """The run's curves: loss[task], val[task] (with the task's metric) and the decaScore, as (x, y) points."""
    loss = collections.defaultdict(list)
    val = collections.defaultdict(list)
    deca = []
    t0 = None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                sys.exit(f'error: {path}:{n}: not JSON')
            if x_axis == 'hours':
                if 'time' not in r:
                    sys.exit(f'error: {path}:{n}: no "time" (written by deca before it recorded wall-clock time): use --x step')
                t0 = r['time'] if t0 is None else t0
                x = (r['time'] - t0) / 3600
            else:
                x = r.get('step')
            if r.get('type') == 'train':
                loss[r['task']].append((x, r['loss']))
            elif r.get('type') == 'validation':
                if r['task'] == 'decascore':
                    deca.append((x, r['decascore']))
                else:
                    metric = r['decascore_metric']  # the task's decaScore metric
                    val[(r['task'], metric)].append((x, r[metric]))
    if not loss and not deca:
        sys.exit(f'error: {path} has no training or validation lines')
    return loss, val, deca


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', metavar='run', help='run folder (with metrics.jsonl) or a metrics.jsonl file')
    parser.add_argument('--output', help='PNG file (default for one run: <run>/curves.png; needed for several)')
    parser.add_argument('--x', choices=['step', 'hours'], default='step',
                        help='x axis: the step, or wall-clock hours since the run\'s first line (default: step)')
    args = parser.parse_args()
    paths = [r if r.endswith('.jsonl') else os.path.join(r, 'metrics.jsonl') for r in args.runs]
    for path in paths:
        if not os.path.exists(path):
            sys.exit(f'error: {path} does not exist')
    if len(paths) > 1 and not args.output:
        sys.exit('error: several runs go on one plot: give --output FILE.png')
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        hint = 'apt-get install python3-matplotlib, or pip install matplotlib'
        if sys.executable != '/usr/bin/python3' and os.path.exists('/usr/bin/python3'):
            hint += '; Debian\'s package is for /usr/bin/python3'
        sys.exit(f'error: matplotlib is missing in {sys.executable} ({hint})')

    xlabel = 'wall-clock hours' if args.x == 'hours' else 'step'
    fig, axes = plt.subplots(1, 3, figsize=(18, 5))
    for run, path in zip(args.runs, paths):
        loss, val, deca = read_run(path, args.x)
        # One run: lines named by task; several: by run and task.
        name = (lambda what: what) if len(paths) == 1 else (lambda what: f'{os.path.basename(run.rstrip("/"))}: {what}')
        for task, points in sorted(loss.items()):
            axes[0].plot([p[0] for p in points], [p[1] for p in points], label=name(task))
        for (task, metric), points in sorted(val.items()):
            axes[1].plot([p[0] for p in points], [p[1] for p in points], marker='o', label=name(f'{task} ({metric})'))
        if deca:
            axes[2].plot([p[0] for p in deca], [p[1] for p in deca], marker='o', label=name('decaScore'))
    axes[0].set(title='training loss', xlabel=xlabel, ylabel='token NLL')
    axes[1].set(title='validation', xlabel=xlabel, ylabel='metric')
    axes[2].set(title='decaScore', xlabel=xlabel)
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    out = args.output or os.path.join(os.path.dirname(paths[0]), 'curves.png')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == '__main__':
    main()
