#!/usr/bin/env python3
"""Compares the initial parameters of deca's MQAN with decaNLP's, parameter by
parameter: shape, standard deviation and range, beside the distribution each
one is drawn from (the table of docs/learning.md, "Initialisation").

  init_table.py DECA_MODEL.safetensors DECANLP_INIT.json

DECA_MODEL.safetensors: the weights of a deca checkpoint saved before any
update that moves them (scripts/learning_side_by_side.sh init writes one with
training.lr_schedule constant and training.lr 0). DECANLP_INIT.json: what
scripts/decanlp_learning.py --init-stats writes for decaNLP's MQAN of the same
sizes. Parameters are matched by name (RENAMES maps deca's names to decaNLP's);
a parameter only one side has is listed as such.
Needs numpy.
"""
import json
import math
import re
import struct
import sys

import numpy as np

# deca's names -> decaNLP's (regular expression, replacement), applied in order.
RENAMES = [
    (r'^(encoder|decoder)_embeddings\.linear\.', r'\1_embeddings.projection.linear.'),
    (r'^coattention_proj\.', 'coattention.proj.'),
    (r'^coattention_sentinel\.', 'coattention.embed_sentinel.'),
    (r'(layers\.\d+)\.(selfattn|attention)\.(w[qkv])\.', r'\1.\2.layer.\3.'),
    (r'(layers\.\d+)\.(selfattn|attention|feedforward)_norm\.', r'\1.\2.layernorm.'),
    (r'(layers\.\d+)\.feedforward\.(feedforward\.linear|linear)\.', r'\1.feedforward.layer.\2.'),
    (r'\.rnn\.cells\.(\d+)\.', r'.rnn.layers.\1.'),
    (r'(vocab_pointer_switch|context_question_switch)\.linear\.', r'\1.0.linear.'),
    (r'^embedding\.weight$', 'encoder_embeddings.pretrained_embeddings.0.weight'),
]


def decanlp_name(name):
    for pattern, replacement in RENAMES:
        name = re.sub(pattern, replacement, name)
    return name


DTYPES = {'F32': np.float32, 'F64': np.float64, 'BF16': None, 'F16': np.float16}


def read_safetensors(path):
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        raw = data[begin:end]
        if info['dtype'] == 'BF16':
            x = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            x = np.frombuffer(raw, dtype=DTYPES[info['dtype']])
        out[name] = x.astype(np.float64).reshape(info['shape'])
    return out


def stats(x):
    return dict(shape=list(x.shape), mean=float(x.mean()), std=float(x.std(ddof=1)) if x.size > 1 else 0.0,
                min=float(x.min()), max=float(x.max()))


def law(name, shape, params):
    """The distribution PyTorch's (and LibTorch's) default initialisation draws."""
    if name.endswith('gamma'):
        return 'ones'
    if name.endswith('beta'):
        return 'zeros'
    if re.search(r'(weight|bias)_(ih|hh)', name):  # LSTM and LSTMCell: U(±1/sqrt(hidden)) for all
        hidden = shape[0] // 4
        return f'U(±1/√{hidden}) = ±{1 / math.sqrt(hidden):.3f}'
    if name == 'embedding.weight' or 'sentinel' in name or 'pretrained' in name:
        return 'N(0, 1)'
    weight = params.get(name[:-len('bias')] + 'weight') if name.endswith('bias') else params.get(name)
    if weight is not None and len(weight['shape']) == 2:  # Linear: kaiming_uniform(a=√5), bias alike
        fan_in = weight['shape'][1]
        return f'U(±1/√{fan_in}) = ±{1 / math.sqrt(fan_in):.3f}'
    return '?'


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    deca = {k: stats(v) for k, v in read_safetensors(sys.argv[1]).items()}
    with open(sys.argv[2]) as f:
        ref = json.load(f)
    used = set()
    print('| parameter (deca) | shape deca / decaNLP | drawn from | std deca | std decaNLP | range deca | range decaNLP |')
    print('|---|---|---|---:|---:|---|---|')
    for name, d in deca.items():
        other = decanlp_name(name)
        r = ref.get(other)
        shape = '×'.join(map(str, d['shape']))
        cells = [f'`{name}`', f"{shape} / {'×'.join(map(str, r['shape'])) if r else '—'}", law(name, d['shape'], deca),
                 f"{d['std']:.4f}", f"{r['std']:.4f}" if r else '—', f"±{max(-d['min'], d['max']):.3f}",
                 f"±{max(-r['min'], r['max']):.3f}" if r else '—']
        if r is not None:
            used.add(other)
            if not r.get('trainable', True):
                cells[1] += ' (decaNLP: frozen)'
        print('| ' + ' | '.join(cells) + ' |')
    for name, r in ref.items():
        if name not in used:
            shape = '×'.join(map(str, r['shape']))
            print(f"| — (decaNLP `{name}`) | — / {shape} | | — | {r['std']:.4f} | — | ±{max(-r['min'], r['max']):.3f} |")


if __name__ == '__main__':
    main()
