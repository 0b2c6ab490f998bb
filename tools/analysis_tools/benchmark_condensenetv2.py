# Copyright (c) dynamicnet contributors. All rights reserved.
"""CPU latency of CondenseNetV2: training-time network vs. the converted one, in one run.

Builds the ImageNet classifier (backbone + pooling + head) with random weights, random BN
statistics and non-zero SFR gamma, condenses it fully (``set_progress(1.0)``), converts a copy
(``switch_to_deploy``) and times both in eval mode at each batch size, alternating the two models
between repeats. Prints the median latencies, their ratio, the largest output difference and
the MACs of both models (``dynamicnet.utils.complexity.count_macs``, rules ``condensenet`` and
``macs``).

Example::

    python tools/analysis_tools/benchmark_condensenetv2.py --arch a --batch-sizes 1 32
"""
import argparse
import copy
import statistics
import time
from typing import Dict, List

import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

from dynamicnet.models.backbones.condensenetv2 import CondenseNetV2
from dynamicnet.registry import MODELS
from dynamicnet.utils.complexity import count_macs, count_params

HEAD_WIDTH = {'a': 828, 'b': 1024, 'c': 1024}


def build(arch: str, seed: int) -> nn.Module:
    """A fully condensed, randomly initialised CondenseNetV2-``arch`` classifier (eval mode)."""
    torch.manual_seed(seed)
    init_default_scope('mmpretrain')
    model = MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='dynamicnet.CondenseNetV2', arch=arch),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(
                type='dynamicnet.CondenseNetV2ClsHead',
                num_classes=1000,
                in_channels=CondenseNetV2(arch=arch).out_channels[-1],
                mid_channels=[HEAD_WIDTH[arch]])))
    model.backbone.init_weights()  # official init; the head keeps its default init
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) * 0.5 + 0.25)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
    model.backbone.set_progress(1.0)
    return model.eval()


def time_ms(model: nn.Module, x: torch.Tensor) -> float:
    """Wall time of one forward in milliseconds."""
    start = time.perf_counter()
    model(x, mode='tensor')
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default='a', choices=sorted(HEAD_WIDTH))
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 32])
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train_model = build(args.arch, args.seed)
    deploy_model = copy.deepcopy(train_model)
    deploy_model.backbone.switch_to_deploy()
    models: Dict[str, nn.Module] = {'training-time': train_model, 'converted': deploy_model}

    probe = torch.randn(1, 3, args.input_size, args.input_size)
    print(f'CondenseNetV2-{args.arch.upper()} at {args.input_size}x{args.input_size}, '
          f'{args.threads} CPU thread(s), torch {torch.__version__}')
    for name, model in models.items():
        official = count_macs(model, (probe, ), rules='condensenet',
                              forward=lambda x, m=model: m(x, mode='tensor'))
        executed = _executed_macs(model, probe)
        print(f'  {name:14s} MACs (official rules) {official / 1e6:8.2f}M, executed conv/linear '
              f'MACs {executed / 1e6:8.2f}M, params (official rules) '
              f'{count_params(model, rules="condensenet") / 1e6:.3f}M, stored params '
              f'{count_params(model) / 1e6:.3f}M')

    header = f'{"batch":>5} {"training ms":>12} {"converted ms":>13} {"speed-up":>9} ' \
             f'{"logits max|diff|":>17} {"max|logit|":>10} {"features max|diff|":>19} ' \
             f'{"max|feature|":>12}'
    print(header)
    with torch.inference_mode():
        for batch in args.batch_sizes:
            x = torch.randn(batch, 3, args.input_size, args.input_size,
                            generator=torch.Generator().manual_seed(args.seed + batch))
            outs = {n: m(x, mode='tensor') for n, m in models.items()}
            for _ in range(args.warmup):
                for m in models.values():
                    m(x, mode='tensor')
            samples: Dict[str, List[float]] = {n: [] for n in models}
            for _ in range(args.repeats):
                for n, m in models.items():
                    samples[n].append(time_ms(m, x))
            t_train = statistics.median(samples['training-time'])
            t_conv = statistics.median(samples['converted'])
            diff = (outs['training-time'] - outs['converted']).abs().max().item()
            scale = outs['training-time'].abs().max().item()
            feats = {n: m.backbone(x)[-1] for n, m in models.items()}
            feat_diff = (feats['training-time'] - feats['converted']).abs().max().item()
            feat_scale = feats['training-time'].abs().max().item()
            print(f'{batch:>5} {t_train:>12.2f} {t_conv:>13.2f} {t_train / t_conv:>8.2f}x '
                  f'{diff:>17.2e} {scale:>10.3g} {feat_diff:>19.2e} {feat_scale:>12.3g}')


def _executed_macs(model: nn.Module, x: torch.Tensor) -> int:
    """MACs the forward actually executes (masked convolutions at full density)."""
    saved = {}
    for name, m in model.named_modules():
        if hasattr(m, 'mac_density'):
            saved[name] = m.mac_density
            m.mac_density = 1.0
    try:
        return count_macs(model, (x, ), rules='macs', forward=lambda t: model(t, mode='tensor'))
    finally:
        for name, m in model.named_modules():
            if name in saved:
                m.mac_density = saved[name]


if __name__ == '__main__':
    main()
