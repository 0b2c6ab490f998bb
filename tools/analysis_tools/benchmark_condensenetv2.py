# Copyright (c) dynamicnet contributors. All rights reserved.
"""CPU latency of CondenseNetV2: training-time network vs. the converted one, in one run.

Builds the ImageNet classifier (backbone + pooling + head) with random weights, random BN
statistics and non-zero SFR gamma, condenses it fully (``set_progress(1.0)``), converts a copy
(``switch_to_deploy``) and times them in eval mode at each batch size, alternating the models
between repeats. The converted network is timed in three forms: as converted (the default
inference of ``CondenseNetV2(deploy=True)``, each dense block in one channel-major buffer), after
the deploy-time BN fusion ``fuse_norm()``, and with ``channel_major=False`` (layer by layer on
(B, C, H, W) tensors, the form autograd uses); all give the same outputs. A fifth model, the
**bound**, is the training-time network whose LGC and SFR layers skip their 1x1 products (each
returns zeros of its output shape, allocated once) and without the BN that ``fuse_norm()`` folds;
everything else runs as trained, so its speed-up is what a conversion would reach if the condensed
products, with their gathers and scatter-adds, cost nothing (the concatenations and reactivation
additions, which the channel-major path restructures, still run). Its outputs differ and are not
compared. Prints the MACs of the models (``dynamicnet.utils.complexity.count_macs``, rules
``condensenet`` and ``macs``), then per batch size the median wall-clock latency and the median CPU
time of the process per forward, the speed-up by each (the median of the per-round ratios,
:func:`dynamicnet.utils.timing.paired_ratio`, so that a load change between rounds cancels), and
the largest output difference.

With ``--threads 1`` (default) the CPU time equals the latency on an otherwise idle machine; on a
shared machine it leaves out the time the process waits for a core, so its ratio is the more
stable one. Large activations are page-faulted afresh by glibc's default allocator at every call
(kernel time, counted in both clocks, the same for both models); PyTorch's CPU tuning guide
recommends an allocator that reuses memory (jemalloc / tcmalloc). ``--keep-freed-memory`` makes
glibc keep freed memory of every size in the process
(:func:`dynamicnet.utils.allocator.keep_freed_memory`, the same as the environment variables
``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000``); the header says which allocator ran.

``--graph`` runs every model through the same TorchScript deployment path instead of eager PyTorch:
``freeze`` traces it for each batch size (``torch.jit.trace`` in eval mode without autograd, so the
converted network's channel-major path and the shape-dependent branches of that input are recorded)
and freezes it (``torch.jit.freeze``: weights, BN statistics and masks become constants, e.g. the
training-time ``weight * mask`` is computed once); ``optimize`` adds
``torch.jit.optimize_for_inference`` (oneDNN layouts for convolutions). Both remove Python dispatch
for both networks alike; the largest difference of each graph's output to its eager model is
printed. TorchScript is deprecated in PyTorch 2.x (its FutureWarnings are silenced here).
``compile`` runs every model through ``torch.compile`` (Inductor, static shapes, weights frozen
into the graph: ``torch._inductor.config.freezing``), compiled per batch size before timing; it
needs a C++ compiler and takes tens of seconds per model and batch size. In the README's
measurements none of them reaches the target where eager mode misses it (A and B at batch 1):
freezing speeds both networks up by about the same time, ``optimize`` slows the training-time
network down more than the converted one (layout conversions around its dense 1x1 convolutions),
so its ratio is not a fair one, and Inductor fuses the training-time network's BN-activation-
convolution chains as well.

Example::

    python tools/analysis_tools/benchmark_condensenetv2.py --arch a --batch-sizes 1 32
    python tools/analysis_tools/benchmark_condensenetv2.py --arch a --graph freeze
    python tools/analysis_tools/benchmark_condensenetv2.py --arch b --batch-sizes 1 --graph compile
"""
import argparse
import copy
import functools
import os
import statistics
import time
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

from dynamicnet.models.backbones.condensenetv2 import CondenseNetV2, CondenseNetV2Layer
from dynamicnet.models.utils.condensenetv2_layers import CONDENSING_LAYERS
from dynamicnet.registry import MODELS
from dynamicnet.utils.allocator import keep_freed_memory
from dynamicnet.utils.complexity import count_macs, count_params
from dynamicnet.utils.timing import paired_ratio

HEAD_WIDTH = {'a': 828, 'b': 1024, 'c': 1024}
GRAPH_MODES = ('eager', 'freeze', 'optimize', 'compile')


class _SkippedProduct(nn.Module):
    """The masked 1x1 convolution of an LGC or SFR in the bound model: returns zeros of the
    output shape, created once per shape, so that the layer costs its BN and activation only.

    Args:
        out_channels: Output channels of the replaced convolution.
    """

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.out_channels = out_channels
        self._zeros: Dict[Tuple[int, ...], torch.Tensor] = {}

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W) zeros; nothing writes into them downstream."""
        shape = (x.shape[0], self.out_channels, *x.shape[2:])
        if shape not in self._zeros:
            self._zeros[shape] = x.new_zeros(shape)
        return self._zeros[shape]


def skip_condensing_products(model: nn.Module) -> nn.Module:
    """A copy of a training-time ``model`` whose LGC and SFR layers skip their 1x1 products.

    The BN after each LGC (the one :meth:`CondenseNetV2.fuse_norm` folds into the converted LGC)
    is removed as well, so that the bound also covers the fused network.
    """
    bound = copy.deepcopy(model)
    for module in bound.modules():
        if isinstance(module, CONDENSING_LAYERS):
            module.conv = _SkippedProduct(module.out_channels)
        elif isinstance(module, CondenseNetV2Layer):
            module.conv_2.norm = nn.Identity()
    return bound


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


class _TensorMode(nn.Module):
    """``model(x, mode='tensor')`` as a one-argument module, for tracing."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, mode='tensor')


def compile_graph(model: nn.Module, x: torch.Tensor, graph: str,
                  backend: str = 'inductor') -> Callable[[torch.Tensor], torch.Tensor]:
    """The logits function of ``model`` (eval mode) for inputs shaped like ``x``.

    Args:
        model: The classifier.
        x: Example input; a traced graph is valid for this shape only (the layers branch on the
            batch size and the device in Python).
        graph: ``'eager'`` (the module itself), ``'freeze'`` (traced without autograd, then
            ``torch.jit.freeze``), ``'optimize'`` (then ``torch.jit.optimize_for_inference``) or
            ``'compile'`` (``torch.compile`` with static shapes and frozen weights, compiled
            here by a first call on ``x``).
        backend: ``torch.compile`` backend of ``'compile'`` (tests use ``'aot_eager'``, which
            needs no C++ compiler).
    """
    if graph == 'eager':
        return functools.partial(model, mode='tensor')
    if graph == 'compile':
        import torch._inductor.config as inductor_config
        compiled = torch.compile(_TensorMode(model).eval(), backend=backend, dynamic=False)
        # Every model and batch size is one more entry for the same forward code: dynamo's
        # default limit (8) would leave the later ones uncompiled, silently.
        with torch.no_grad(), inductor_config.patch(freezing=True), \
                torch._dynamo.config.patch(recompile_limit=64):
            compiled(x)
        return compiled
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about each Python branch on a shape; the graph is traced per input
        # shape and its output compared with the eager model's. TorchScript's deprecation
        # (FutureWarning) is stated in the module docstring.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', FutureWarning)
        traced = torch.jit.freeze(torch.jit.trace(_TensorMode(model).eval(), x, check_trace=False))
        if graph == 'optimize':
            traced = torch.jit.optimize_for_inference(traced)
    return traced


def allocator_setting(kept: bool) -> str:
    """The allocator setting for the header (glibc also reads ``MALLOC_*_`` variables)."""
    if kept:
        return 'freed memory kept (--keep-freed-memory)'
    variables = sorted(k for k in os.environ if k.startswith('MALLOC_') and k.endswith('_'))
    return f'glibc as set by {" ".join(variables)}' if variables else 'system defaults'


def time_ms(forward: Callable[[torch.Tensor], torch.Tensor],
            x: torch.Tensor) -> Tuple[float, float]:
    """Wall-clock time and CPU time of the process of one forward, in milliseconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    forward(x)
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
    parser.add_argument('--keep-freed-memory', action='store_true',
                        help="keep freed memory in the process (glibc mallopt: no block mapped on "
                        'its own, no trimming); default: glibc\'s defaults')
    parser.add_argument('--graph', default='eager', choices=GRAPH_MODES,
                        help='run every model eagerly, as a frozen TorchScript graph traced '
                        'per batch size (optimize: + torch.jit.optimize_for_inference), or '
                        'through torch.compile (Inductor, compiled per batch size)')
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> List[Dict[str, float]]:
    """Print the comparison; returns one row of medians and differences per batch size."""
    torch.set_num_threads(args.threads)
    kept = args.keep_freed_memory and keep_freed_memory(every_size=True)
    if args.keep_freed_memory and not kept:
        warnings.warn('--keep-freed-memory: the C library is not glibc; its defaults are used')
    train_model = build(args.arch, args.seed)
    deploy_model = copy.deepcopy(train_model)
    deploy_model.backbone.switch_to_deploy()
    fused_model = copy.deepcopy(deploy_model)
    fused_model.backbone.fuse_norm()
    layerwise_model = copy.deepcopy(deploy_model)
    layerwise_model.backbone.channel_major = False
    # Keys of the returned rows: wall_<key> / cpu_<key> (ms).
    models: Dict[str, nn.Module] = {
        'train': train_model,
        'conv': deploy_model,
        'conv_fused': fused_model,
        'conv_layerwise': layerwise_model,
        'bound': skip_condensing_products(train_model)
    }
    labels = {
        'train': 'training-time',
        'conv': 'converted',
        'conv_fused': 'converted + fuse_norm()',
        'conv_layerwise': 'converted, channel_major=False',
        'bound': 'bound (no LGC/SFR products)'
    }

    probe = torch.randn(1, 3, args.input_size, args.input_size)
    print(f'CondenseNetV2-{args.arch.upper()} at {args.input_size}x{args.input_size}, '
          f'{args.threads} CPU thread(s), torch {torch.__version__}, {args.graph} mode, '
          f'allocator: {allocator_setting(kept)}')
    for key, model in models.items():
        official = count_macs(model, (probe, ), rules='condensenet',
                              forward=lambda x, m=model: m(x, mode='tensor'))
        executed = _executed_macs(model, probe)
        print(f'  {labels[key]:30s} MACs (official rules) {official / 1e6:8.2f}M, executed '
              f'conv/linear MACs {executed / 1e6:8.2f}M, params (official rules) '
              f'{count_params(model, rules="condensenet") / 1e6:.3f}M, stored params '
              f'{count_params(model) / 1e6:.3f}M')

    rows = []
    with torch.inference_mode():
        for batch in args.batch_sizes:
            x = torch.randn(batch, 3, args.input_size, args.input_size,
                            generator=torch.Generator().manual_seed(args.seed + batch))
            eager = {k: m(x, mode='tensor') for k, m in models.items()}
            forwards = {k: compile_graph(m, x, args.graph) for k, m in models.items()}
            outs = eager if args.graph == 'eager' else {k: f(x) for k, f in forwards.items()}
            for _ in range(args.warmup):
                for f in forwards.values():
                    f(x)
            samples: Dict[str, List[Tuple[float, float]]] = {k: [] for k in models}
            for _ in range(args.repeats):
                for k, f in forwards.items():
                    samples[k].append(time_ms(f, x))
            feats = {k: m.backbone(x)[-1] for k, m in models.items()}
            converted = [k for k in models if k not in ('train', 'bound')]
            row = dict(
                batch=batch,
                graph_diff=max((eager[k] - outs[k]).abs().max().item() for k in models),
                logits_diff=max((eager['train'] - outs[k]).abs().max().item()
                                for k in converted),
                logits_max=outs['train'].abs().max().item(),
                feature_diff=max((feats['train'] - feats[k]).abs().max().item()
                                 for k in converted),
                feature_max=feats['train'].abs().max().item())
            for k, v in samples.items():
                for i, clock in enumerate(('wall', 'cpu')):
                    row[f'{clock}_{k}'] = statistics.median(s[i] for s in v)
                    row[f'speedup_{clock}_{k}'] = paired_ratio(
                        [s[i] for s in samples['train']], [s[i] for s in v])
            rows.append(row)
            print(f'batch {batch}: median of {args.repeats} interleaved forwards; speed-up = '
                  f'training-time / model, median of the per-round ratios')
            print(f'  {"model":30s} {"wall ms":>10} {"speed-up":>8} {"CPU ms":>10} '
                  f'{"speed-up":>8}')
            for k in models:
                print(f'  {labels[k]:30s} {row[f"wall_{k}"]:>10.2f} '
                      f'{row[f"speedup_wall_{k}"]:>7.2f}x {row[f"cpu_{k}"]:>10.2f} '
                      f'{row[f"speedup_cpu_{k}"]:>7.2f}x')
            print('  bound: the training-time network without its LGC/SFR 1x1 products, i.e. '
                  'a conversion whose condensed products cost nothing')
            print(f'  largest difference to the training-time model over the converted forms: '
                  f'logits {row["logits_diff"]:.2e} (max |logit| {row["logits_max"]:.3g}), last '
                  f'features {row["feature_diff"]:.2e} (max {row["feature_max"]:.3g})')
            if args.graph != 'eager':
                print(f'  largest logit difference of a graph to its eager model: '
                      f'{row["graph_diff"]:.2e} (features: eager models)')
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
