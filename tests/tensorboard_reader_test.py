#!/usr/bin/env python3
"""TensorBoard's own reader (its EventAccumulator) reads the event files that
deca-train writes into <run>/tensorboard: every scalar of metrics.jsonl, at its
step, once; after a resume from an earlier checkpoint (the newest one damaged,
as a kill leaves it) the steps trained twice appear once, as in metrics.jsonl.

  tests/tensorboard_reader_test.py BUILD_DIR SOURCE_DIR

Exits 77 (ctest's skip) when the tensorboard package is missing: scripts/setup.sh
installs it into BUILD_DIR/py, which tests/CMakeLists.txt runs this with."""
import json
import os
import subprocess
import sys
import tempfile

try:
    from tensorboard.backend.event_processing import event_accumulator
except ImportError:
    print('skipped: no tensorboard package in this Python (scripts/setup.sh installs it into build/py)')
    sys.exit(77)

build, source = sys.argv[1], sys.argv[2]

with tempfile.TemporaryDirectory() as tmp:
    run = os.path.join(tmp, 'run')
    train = [os.path.join(build, 'bin', 'deca-train'), '--config', os.path.join(source, 'configs', 'quickstart.json'),
             '--data-root', os.path.join(source, 'data', 'sample'), '--output', run, '--threads', '1',
             '--set', 'curriculum.0.tasks=["sst","schema"]', '--set', 'training.log_every=1',
             '--set', 'training.val_every=3', '--set', 'training.save_every=3', '--set', 'training.keep_last=3']
    subprocess.run(train + ['--steps', '6'], check=True, capture_output=True)
    # Damage the newest checkpoint: the resume goes back to step 3 and trains steps 4-6 again.
    os.remove(os.path.join(run, 'checkpoints', 'step-00000006', 'model.safetensors'))
    subprocess.run(train + ['--resume', '--steps', '6'], check=True, capture_output=True)

    expected = {}  # tag -> [(step, value)], as MetricsLog mirrors metrics.jsonl
    last_train_step = None
    with open(os.path.join(run, 'metrics.jsonl')) as f:
        for r in map(json.loads, f):
            if r['type'] == 'train':
                expected.setdefault('loss/' + r['task'], []).append((r['step'], r['loss']))
                if r['step'] != last_train_step:
                    for tag, key in [('learning_rate', 'lr'), ('tokens_per_s', 'tokens_per_s'),
                                     ('examples_per_s', 'examples_per_s')]:
                        expected.setdefault(tag, []).append((r['step'], r[key]))
                    last_train_step = r['step']
            elif r['type'] == 'validation' and r['task'] == 'decascore':
                expected.setdefault('decascore', []).append((r['step'], r['decascore']))
            elif r['type'] == 'validation':
                for k, v in r.items():
                    if isinstance(v, (int, float)) and k not in ('step', 'elapsed_seconds', 'time'):
                        expected.setdefault(f"{r['task']}/{k}", []).append((r['step'], v))

    acc = event_accumulator.EventAccumulator(os.path.join(run, 'tensorboard'), size_guidance={'scalars': 0})
    acc.Reload()
    tags = set(acc.Tags()['scalars'])
    assert tags == set(expected), f'tags: TensorBoard {sorted(tags)}, metrics.jsonl {sorted(expected)}'
    assert {'loss/sst', 'loss/schema', 'learning_rate', 'sst/em', 'schema/em', 'decascore'} <= tags, sorted(tags)
    for tag, want in expected.items():
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        assert [s for s, _ in got] == [s for s, _ in want], f'{tag}: steps {got} against {want}'
        for (step, a), (_, b) in zip(got, want):
            assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), f'{tag} step {step}: {a} against {b}'
    # Steps 4-6 ran twice; each appears once, and the restart dropped the first run's.
    assert [s for s, _ in expected['learning_rate']] == [1, 2, 3, 4, 5, 6], expected['learning_rate']
    print(f'TensorBoard read {len(tags)} tags, {sum(map(len, expected.values()))} values, as metrics.jsonl has them')
