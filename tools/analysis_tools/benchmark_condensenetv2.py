# Copyright (c) dynamicnet contributors. All rights reserved.
"""CPU latency of CondenseNetV2: training-time network vs. the converted one, in one run.

Builds the ImageNet classifier (backbone + pooling + head) with random weights, random BN
statistics and non-zero SFR gamma, condenses it fully (``set_progress(1.0)``), converts a copy
(``switch_to_deploy``) and times both in eval mode at each batch size, alternating the models
between repeats. The converted network is timed in both inference layouts of
``CondenseNetV2(deploy=True)``: ``channel_major=True`` (the default: each dense block in one
channel-major buffer) and ``channel_major=False`` (layer by layer on (B, C, H, W) tensors, the
form autograd uses); same weights, same outputs. Prints the MACs of the models
(``dynamicnet.utils.complexity.count_macs``, rules ``condensenet`` and ``macs``), then per batch
size the median wall-clock latency and the median CPU time of the process per forward, the
speed-up by each, and the largest output difference.

With ``--threads 1`` (default) the CPU time equals the latency on an otherwise idle machine; on a
shared machine it leaves out the time the process waits for a core, so its ratio is the more
stable one. Large activations are page-faulted afresh by glibc's default allocator at every call
(kernel time, counted in both clocks, the same for both models); PyTorch's CPU tuning guide
recommends an allocator that reuses memory (jemalloc / tcmalloc, or for glibc
``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000``).

Example::

    python tools/analysis_tools/benchmark_condensenetv2.py --arch a --batch-sizes 1 32
"""
import argparse
import copy
import statistics
import time
from typing import Dict, List, Optional, Tuple

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


def time_ms(model: nn.Module, x: torch.Tensor) -> Tuple[float, float]:
    """Wall-clock time and CPU time of the process of one forward, in milliseconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    model(x, mode='tensor')
    return (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default='a', choices=sorted(HEAD_WIDTH))
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 32])
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> List[Dict[str, float]]:
    """Print the comparison; returns one row of medians and differences per batch size."""
    torch.set_num_threads(args.threads)
    train_model = build(args.arch, args.seed)
    deploy_model = copy.deepcopy(train_model)
    deploy_model.backbone.switch_to_deploy()
    layerwise_model = copy.deepcopy(deploy_model)
    layerwise_model.backbone.channel_major = False
    models: Dict[str, nn.Module] = {
        'training-time': train_model,
        'converted': deploy_model,
        'conv. layerwise': layerwise_model
    }

    probe = torch.randn(1, 3, args.input_size, args.input_size)
    print(f'CondenseNetV2-{args.arch.upper()} at {args.input_size}x{args.input_size}, '
          f'{args.threads} CPU thread(s), torch {torch.__version__}')
    for name, model in models.items():
        official = count_macs(model, (probe, ), rules='condensenet',
                              forward=lambda x, m=model: m(x, mode='tensor'))
        executed = _executed_macs(model, probe)
        print(f'  {name:15s} MACs (official rules) {official / 1e6:8.2f}M, executed conv/linear '
              f'MACs {executed / 1e6:8.2f}M, params (official rules) '
              f'{count_params(model, rules="condensenet") / 1e6:.3f}M, stored params '
              f'{count_params(model) / 1e6:.3f}M')

    print('speed-up = training-time / converted; in brackets the converted network run layer by '
          'layer (channel_major=False)')
    print(f'{"":5} {"wall-clock ms (median)":^42} {"CPU ms (median)":^42}')
    print(f'{"batch":>5} {"training":>10} {"converted":>10} {"speed-up":>20}  {"training":>10} '
          f'{"converted":>10} {"speed-up":>20} {"logits max|diff|":>17} {"max|logit|":>10} '
          f'{"features max|diff|":>19} {"max|feature|":>12}')
    rows = []
    with torch.inference_mode():
        for batch in args.batch_sizes:
            x = torch.randn(batch, 3, args.input_size, args.input_size,
                            generator=torch.Generator().manual_seed(args.seed + batch))
            outs = {n: m(x, mode='tensor') for n, m in models.items()}
            for _ in range(args.warmup):
                for m in models.values():
                    m(x, mode='tensor')
            samples: Dict[str, List[Tuple[float, float]]] = {n: [] for n in models}
            for _ in range(args.repeats):
                for n, m in models.items():
                    samples[n].append(time_ms(m, x))
            wall = {n: statistics.median(s[0] for s in v) for n, v in samples.items()}
            cpu = {n: statistics.median(s[1] for s in v) for n, v in samples.items()}
            feats = {n: m.backbone(x)[-1] for n, m in models.items()}
            converted = ('converted', 'conv. layerwise')
            row = dict(
                batch=batch,
                wall_train=wall['training-time'],
                wall_conv=wall['converted'],
                wall_conv_layerwise=wall['conv. layerwise'],
                cpu_train=cpu['training-time'],
                cpu_conv=cpu['converted'],
                cpu_conv_layerwise=cpu['conv. layerwise'],
                logits_diff=max((outs['training-time'] - outs[n]).abs().max().item()
                                for n in converted),
                logits_max=outs['training-time'].abs().max().item(),
                feature_diff=max((feats['training-time'] - feats[n]).abs().max().item()
                                 for n in converted),
                feature_max=feats['training-time'].abs().max().item())
            rows.append(row)
            speed_up = {
                clock: f'{row[clock + "_train"] / row[clock + "_conv"]:.2f}x '
                f'({row[clock + "_train"] / row[clock + "_conv_layerwise"]:.2f}x)'
                for clock in ('wall', 'cpu')
            }
            print(f'{batch:>5} {row["wall_train"]:>10.2f} {row["wall_conv"]:>10.2f} '
                  f'{speed_up["wall"]:>20}  {row["cpu_train"]:>10.2f} {row["cpu_conv"]:>10.2f} '
                  f'{speed_up["cpu"]:>20} {row["logits_diff"]:>17.2e} {row["logits_max"]:>10.3g} '
                  f'{row["feature_diff"]:>19.2e} {row["feature_max"]:>12.3g}')
    return rows


def main() -> None:
    run(parse_args())


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
