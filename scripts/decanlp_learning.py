#!/usr/bin/env python3
"""Runs decaNLP's own train.py, unmodified, as one arm of a learning comparison
with deca (scripts/learning_side_by_side.sh), and writes what deca's trainer
writes: OUT/metrics.jsonl and each validation's answers as prediction files.

  decanlp_learning.py --decanlp DIR --out OUT --steps N [--threads T] -- <decaNLP train.py arguments>
  decanlp_learning.py --decanlp DIR --init-stats FILE -- <arguments>    # the initial parameters, then exit
  decanlp_learning.py --decanlp DIR --write-vectors FILE -- <arguments> # its frozen input vectors as text, then exit

Nothing of decaNLP is edited: the script imports its train module (as
decanlp-bench's train_bench.py does) and wraps four of its functions:
- train.step: the loss of every step and the training seconds (wall time of
  everything but validation) go to metrics.jsonl, every 50 steps one "train"
  line per task trained since the last ({"type": "train", "step", "task",
  "loss" (that task's mean since the last line), "elapsed_seconds"}), as
  deca's trainer writes them; after every --val-every updates and the last, decaNLP's
  own validate() runs on the validation iterators its train() was given (its
  periodic validation, which comes before an update, is switched off), and the
  run stops after --steps updates.
- validate.gather_results: the greedy answers of each validation are written
  to OUT/validation/step-NNNNNNNN/<task>.jsonl as {"id", "answer"}, the ids
  being deca's (the position in the task's validation file), so that deca-eval
  scores both systems with one scorer; decaNLP's own metrics are copied into
  the "validation" line of metrics.jsonl as "decanlp_<metric>" (all but BLEU
  and ROUGE, which validate.compute_metrics is told to skip: they need
  sacreBLEU 1.2.12 and ROUGE-1.5.5's Perl, and deca-eval scores them).
- train.init_model: --init-stats writes every parameter's shape, mean, std,
  min and max as JSON and exits (the initialisation table of docs/learning.md).
  --write-vectors writes the frozen input vectors of the run's vocabulary (the
  GloVe and character n-gram vectors decaNLP concatenates, 400 numbers a word)
  as a GloVe text file, for deca's model.embeddings_file, and exits.

Steps count updates, as deca counts them: step 500 is the model after 500 updates.
"""
import argparse
import json
import os
import sys
import time

LOG_EVERY = 50


def main():
    argv = sys.argv[1:]
    split = argv.index('--') if '--' in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--decanlp', required=True, help="decaNLP's source tree (salesforce/decaNLP@043ab56)")
    parser.add_argument('--out', help='folder for metrics.jsonl and predictions/')
    parser.add_argument('--steps', type=int, help='updates to run')
    parser.add_argument('--val-every', type=int, default=250, help='validate after every this many updates (default 250)')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (default 1)')
    parser.add_argument('--init-stats', help='write the initial parameters\' statistics to this JSON file and exit')
    parser.add_argument('--write-vectors', help='write the vocabulary\'s frozen input vectors to this text file and exit')
    ours = parser.parse_args(argv[:split])
    if not (ours.init_stats or ours.write_vectors) and (not ours.out or not ours.steps):
        parser.error('--out and --steps are needed unless --init-stats or --write-vectors is given')
    decanlp = os.path.abspath(ours.decanlp)
    if not os.path.exists(os.path.join(decanlp, 'train.py')):
        sys.exit(f'error: {decanlp} has no train.py (decaNLP\'s source tree)')
    sys.path.insert(0, decanlp)
    import torch
    torch.set_num_threads(ours.threads)
    import train as T
    import validate as V

    def run_decanlp(extra=()):
        sys.argv = [os.path.join(decanlp, 'train.py')] + argv[split + 1:] + list(extra)
        T.main()

    if ours.write_vectors:
        def write_vectors(args, field, logger, world_size, device):
            seen = set()
            with open(ours.write_vectors, 'w') as f:
                for word, vector in zip(field.vocab.itos, field.vocab.vectors):
                    word = word.strip()
                    if not word or ' ' in word or word in seen or not vector.any():
                        continue
                    seen.add(word)
                    f.write(word + ' ' + ' '.join(f'{x:.6g}' for x in vector.tolist()) + '\n')
            print(f'wrote {len(seen)} vectors of {field.vocab.vectors.size(1)} numbers to {ours.write_vectors}')
            os._exit(0)
        T.init_model = write_vectors
        run_decanlp()
        return

    if ours.init_stats:
        original_init = T.init_model

        def init_model(args, field, logger, world_size, device):
            model = original_init(args, field, logger, world_size, device)
            def summary(p):
                x = p.detach().double()
                return dict(shape=list(x.shape), mean=x.mean().item(), std=x.std().item() if x.numel() > 1 else 0.0,
                            min=x.min().item(), max=x.max().item(), trainable=p.requires_grad)
            stats = {name: summary(p) for name, p in model.named_parameters()}
            # The frozen vectors are kept outside the module's parameters.
            for i, emb in enumerate(getattr(model.encoder_embeddings, 'pretrained_embeddings', [])):
                stats[f'encoder_embeddings.pretrained_embeddings.{i}.weight'] = summary(emb.weight)
            with open(ours.init_stats, 'w') as f:
                json.dump(stats, f, indent=1)
            print(f'wrote {len(stats)} parameters to {ours.init_stats}')
            os._exit(0)
        T.init_model = init_model
        run_decanlp()
        return

    os.makedirs(ours.out, exist_ok=True)
    metrics = open(os.path.join(ours.out, 'metrics.jsonl'), 'a')

    def write(line):
        metrics.write(json.dumps(line) + '\n')
        metrics.flush()

    state = dict(updates=0, start=None, validating=0.0, losses={}, val_iters=None, args=None)

    def elapsed():
        return time.perf_counter() - state['start'] - state['validating']

    def validate_all(model, field, logger):
        t0 = time.perf_counter()
        for task, val_iter in state['val_iters']:
            t1 = time.perf_counter()
            _, metric_dict = T.validate(task, val_iter, model, logger, field, 1, 0, num_print=0, args=state['args'])
            ids = example_ids(captured['iter'], captured['answers'])
            folder = os.path.join(ours.out, 'validation', f'step-{state["updates"]:08d}')
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f'{task}.jsonl'), 'w') as f:
                for i, p in zip(ids, captured['predictions']):
                    f.write(json.dumps({'id': str(i), 'answer': p.replace('UNK', 'OOV')}, ensure_ascii=False) + '\n')
            line = dict(type='validation', step=state['updates'], task=task, elapsed_seconds=elapsed(),
                        validation_seconds=time.perf_counter() - t1)
            line.update({f'decanlp_{k}': v for k, v in metric_dict.items()})
            write(line)
        state['validating'] += time.perf_counter() - t0

    original_train = T.train

    def train(args, model, opt, train_iters, train_iterations, field, **kw):
        # The validation iterators decaNLP built; its own periodic validation is off (--val_every above the steps).
        state['val_iters'], state['args'] = kw.get('val_iters', []), args
        return original_train(args, model, opt, train_iters, train_iterations, field, **kw)
    T.train = train

    original_step = T.step

    def step(model, batch, opt, iteration, field, task, **kw):
        if state['start'] is None:
            state['start'] = time.perf_counter()
        loss, extra = original_step(model, batch, opt, iteration, field, task, **kw)
        state['updates'] += 1
        total, count = state['losses'].get(task, (0.0, 0))
        state['losses'][task] = (total + loss, count + 1)
        if state['updates'] % LOG_EVERY == 0:
            for name, (total, count) in sorted(state['losses'].items()):
                write(dict(type='train', step=state['updates'], task=name, loss=total / count,
                           lr=opt.param_groups[0]['lr'], elapsed_seconds=elapsed()))
            state['losses'] = {}
        if state['updates'] % ours.val_every == 0 or state['updates'] == ours.steps:
            validate_all(model, field, T.log(0))
        if state['updates'] >= ours.steps:
            metrics.close()
            sys.stdout.flush()
            os._exit(0)
        return loss, extra
    T.step = step

    captured = {}
    original_gather = V.gather_results

    def gather_results(model, val_iter, field, world_size, optional_names=[]):
        result = original_gather(model, val_iter, field, world_size, optional_names=optional_names)
        captured['predictions'], captured['answers'], captured['iter'] = result[1], result[2], val_iter
        return result
    V.gather_results = gather_results

    original_metrics = V.compute_metrics

    def compute_metrics(greedy, answer, rouge=False, bleu=False, **kw):
        # BLEU and ROUGE need sacreBLEU 1.2.12 and ROUGE-1.5.5's Perl; deca-eval scores them from the answers.
        return original_metrics(greedy, answer, rouge=False, bleu=False, **kw)
    V.compute_metrics = compute_metrics

    run_decanlp(['--val_every', str(10 * ours.steps + 1)])


def example_ids(val_iter, answers):
    """The position of each answer's example in its validation file, the id
    deca's readers give it. SQuAD, WikiSQL and WOZ carry it (decaNLP's answers
    are those ids); other tasks' examples come in the iterator's order: the
    file's order sorted stably by the sort key, each batch reversed."""
    examples = val_iter.dataset.examples
    if any(hasattr(examples[0], k) for k in ('squad_id', 'wikisql_id', 'woz_id')):
        return answers.tolist()
    order = list(range(len(examples)))
    if not val_iter.sort:
        return order
    # Iterator.data() sorts stably; __iter__ reverses each batch when sort_within_batch.
    order.sort(key=lambda i: val_iter.sort_key(examples[i]), reverse=val_iter.reverse)
    if not val_iter.sort_within_batch:
        return order
    size = val_iter.batch_size
    return [i for start in range(0, len(order), size) for i in reversed(order[start:start + size])]


if __name__ == '__main__':
    main()
