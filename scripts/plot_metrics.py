#!/usr/bin/env python3
"""Turns a run's metrics.jsonl into a PNG of the training loss per task and the
validation decaScore and per-task metrics, against steps or wall-clock hours.

Usage: python3 scripts/plot_metrics.py runs/quickstart [--output runs/quickstart/curves.png] [--x hours]
Needs matplotlib (scripts/setup.sh installs Debian's python3-matplotlib; or pip install matplotlib).
"""
import argparse
import collections
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('run', help='run folder (with metrics.jsonl) or a metrics.jsonl file')
    parser.add_argument('--output', help='PNG file (default: <run>/curves.png)')
    parser.add_argument('--x', choices=['step', 'hours'], default='step',
                        help='x axis: the step, or wall-clock hours since the first line (default: step)')
    args = parser.parse_args()
    path = args.run if args.run.endswith('.jsonl') else os.path.join(args.run, 'metrics.jsonl')
    if not os.path.exists(path):
        sys.exit(f'error: {path} does not exist')
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        hint = 'apt-get install python3-matplotlib, or pip install matplotlib'
        if sys.executable != '/usr/bin/python3' and os.path.exists('/usr/bin/python3'):
            hint += '; Debian\'s package is for /usr/bin/python3'
        sys.exit(f'error: matplotlib is missing in {sys.executable} ({hint})')

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
            if args.x == 'hours':
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
                    val[r['task']].append((x, r[metric], metric))
    if not loss and not deca:
        sys.exit(f'error: {path} has no training or validation lines')
    xlabel = 'wall-clock hours' if args.x == 'hours' else 'step'

    fig, axes = plt.subplots(1, 3, figsize=(18, 5))
    for task, points in sorted(loss.items()):
        axes[0].plot([p[0] for p in points], [p[1] for p in points], label=task)
    axes[0].set(title='training loss', xlabel=xlabel, ylabel='token NLL')
    axes[0].legend(fontsize=7)
    for task, points in sorted(val.items()):
        axes[1].plot([p[0] for p in points], [p[1] for p in points], marker='o', label=f'{task} ({points[0][2]})')
    axes[1].set(title='validation', xlabel=xlabel, ylabel='metric')
    axes[1].legend(fontsize=7)
    axes[2].plot([p[0] for p in deca], [p[1] for p in deca], marker='o', color='black')
    axes[2].set(title='decaScore', xlabel=xlabel)
    out = args.output or os.path.join(os.path.dirname(path), 'curves.png')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == '__main__':
    main()
