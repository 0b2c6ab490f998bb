# Copyright (c) dynamicnet contributors. All rights reserved.
"""Peak training memory of one or more configs, side by side, with ratios to the end-to-end twin.

    python tools/analysis_tools/benchmark_memory.py CONFIG [CONFIG ...] [--batch-size 128]
        [--input-size 32 [W]] [--checkpoint-modules] [--baseline CONFIG] [--warmup 2]
        [--steps N] [--device cpu|cuda] [--json OUT] [--cfg-options k=v ...]

Every config is measured the same way, on a synthetic batch of ``--batch-size`` images (and random
labels / masks) through the model's own ``train_step`` with the config's optimizer wrapper, after
``--warmup`` unmeasured steps (so optimizer state exists and, on CUDA, cuDNN has picked its
algorithms with ``cudnn.benchmark`` on, ``../shared/specs/infopro.md`` §8):

- **CUDA**: ``torch.cuda.reset_peak_memory_stats()`` then ``max_memory_allocated()`` over
  ``--steps`` steps. ``static`` is ``memory_allocated()`` before them (parameters, buffers,
  optimizer state; gradients are freed by ``zero_grad``); never the reserved memory.
- **CPU**: PyTorch's CPU allocator keeps no peak statistics, but with
  ``torch.profiler.profile(profile_memory=True)`` it reports every allocation and free with its
  running total of bytes allocated since profiling began (``ProfiledCPUMemoryReporter``). The
  step peak is the maximum of that running total over one profiled step (activations, gradients,
  temporaries); ``static`` is the byte size of parameters, buffers and optimizer state.

``total = static + step peak``. The ratio columns divide by the baseline, the first config whose
model trains end to end (not an InfoPro model, or ``K = 1``), unless ``--baseline`` names one.
``--checkpoint-modules`` adds, for each InfoPro config, a row with activation checkpointing
inside every local module.
"""
import argparse
import copy
import gc
import json
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.model.utils import revert_sync_batchnorm  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402

import dynamicnet  # noqa: E402,F401

MB = 1024**2


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Peak training memory, side by side')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--input-size', type=int, nargs='+', default=[32],
                        help='H [W] of the synthetic images')
    parser.add_argument('--checkpoint-modules', action='store_true',
                        help='also measure InfoPro configs with checkpointing inside modules')
    parser.add_argument('--baseline', default=None, help='the end-to-end twin (a config path)')
    parser.add_argument('--warmup', type=int, default=2, help='unmeasured steps first')
    parser.add_argument('--steps', type=int, default=None,
                        help='measured steps (CUDA; default 3). CPU profiles one step')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', default=None, help='also write the rows to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every config, key=value pairs')
    return parser.parse_args(argv)


def is_end_to_end(model: torch.nn.Module) -> bool:
    return getattr(model, 'num_modules', 1) == 1


def synthetic_batch(model: torch.nn.Module, batch_size: int, size: Sequence[int],
                    seed: int) -> dict:
    """Random uint8 images with random labels (classification) or masks (segmentation)."""
    g = torch.Generator().manual_seed(seed)
    h, w = size[0], size[-1]
    inputs = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
              for _ in range(batch_size)]
    if hasattr(model, 'decode_head'):
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        num_classes = model.decode_head.num_classes
        samples = []
        for _ in range(batch_size):
            sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
            mask = torch.randint(0, num_classes, (1, h, w), generator=g)
            sample.gt_sem_seg = PixelData(data=mask)
            samples.append(sample)
    else:
        from mmpretrain.structures import DataSample
        num_classes = model.head.num_classes
        labels = torch.randint(0, num_classes, (batch_size, ), generator=g)
        samples = [DataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


def static_bytes(model: torch.nn.Module, optim_wrapper) -> int:
    """Bytes of parameters, buffers and optimizer state (each storage counted once)."""
    seen, total = set(), 0
    tensors = list(model.parameters()) + list(model.buffers())
    wrappers = optim_wrapper.values() if hasattr(optim_wrapper, 'values') else [optim_wrapper]
    for wrapper in wrappers:
        for state in wrapper.optimizer.state.values():
            tensors += [v for v in state.values() if torch.is_tensor(v)]
    for t in tensors:
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            total += t.untyped_storage().nbytes()
    return total


def cpu_step_peak(step: Callable[[], None]) -> int:
    """Peak bytes allocated by the CPU allocator during ``step`` (profiler accounting)."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    peak, stack = 0, list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation and event.extra_fields.device.type == 'cpu':
            peak = max(peak, event.extra_fields.total_allocated)
    return peak


def measure(cfg: Config, args, checkpoint_modules: bool = False) -> Dict:
    """One row of the table: build, warm up, measure."""
    cfg = copy.deepcopy(cfg)
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    if checkpoint_modules:
        cfg.model.checkpoint_modules = True
    # as mmengine's Runner does: a top-level data_preprocessor configures the model's
    if cfg.get('data_preprocessor') is not None:
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(args.seed)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).to(args.device)
    model.init_weights()
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = synthetic_batch(model, args.batch_size, args.input_size, args.seed)

    def step():
        model.train_step(dict(data), optim_wrapper)

    for _ in range(args.warmup):
        step()
    if args.device == 'cuda':
        torch.cuda.synchronize()
        static = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        for _ in range(args.steps or 3):
            step()
        torch.cuda.synchronize()
        step_peak = torch.cuda.max_memory_allocated() - static
    else:
        static = static_bytes(model, optim_wrapper)
        step_peak = cpu_step_peak(step)
    row = dict(
        K=getattr(model, 'num_modules', 1),
        checkpoint=checkpoint_modules,
        end_to_end=is_end_to_end(model),
        static_mb=static / MB,
        step_peak_mb=step_peak / MB,
        total_mb=(static + step_peak) / MB)
    return row


def run(args) -> List[Dict]:
    """Measure every config (and checkpointed variants); print the table; return the rows."""
    if args.device == 'cuda':
        torch.backends.cudnn.benchmark = True
    # keep the table readable: no per-parameter init_weights messages
    MMLogger.get_instance('benchmark_memory', log_level='WARNING')
    rows = []
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        row = measure(cfg, args)
        rows.append(dict(config=path, **row))
        if args.checkpoint_modules and not row['end_to_end']:
            rows.append(dict(config=path, **measure(cfg, args, checkpoint_modules=True)))
        _release(args.device)
    baseline = _baseline(rows, args.baseline)
    for row in rows:
        row['ratio_total'] = row['total_mb'] / baseline['total_mb'] if baseline else None
        row['ratio_step_peak'] = (row['step_peak_mb'] / baseline['step_peak_mb']
                                  if baseline else None)
    print_table(rows, args, baseline)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


def _release(device: str) -> None:
    # the next config's static memory must not include this one's leftovers
    gc.collect()
    if device == 'cuda':
        torch.cuda.empty_cache()


def _baseline(rows: List[Dict], path: Optional[str]) -> Optional[Dict]:
    for row in rows:
        if (path is None and row['end_to_end']) or (path is not None and row['config'] == path
                                                    and not row['checkpoint']):
            return row
    return None


def print_table(rows: List[Dict], args, baseline: Optional[Dict]) -> None:
    size = 'x'.join(map(str, args.input_size if len(args.input_size) > 1 else
                        args.input_size * 2))
    method = ('CUDA max_memory_allocated (cudnn.benchmark on)' if args.device == 'cuda' else
              'CPU allocator accounting via torch.profiler(profile_memory=True)')
    print(f'Peak training memory, batch {args.batch_size}, {size} inputs, device {args.device}, '
          f'{args.warmup} warm-up step(s); method: {method}; total = static (params, buffers, '
          'optimizer state) + step peak (activations, gradients, temporaries).')
    header = (f'{"config":<58} {"K":>3} {"ckpt":>5} {"static MB":>10} {"step MB":>10} '
              f'{"total MB":>10} {"total/E2E":>10} {"step/E2E":>9}')
    print(header)
    print('-' * len(header))
    for row in rows:
        name = osp.basename(row['config'])
        ratio = f'{row["ratio_total"]:.3f}' if row['ratio_total'] is not None else '-'
        step_ratio = (f'{row["ratio_step_peak"]:.3f}' if row['ratio_step_peak'] is not None
                      else '-')
        print(f'{name:<58} {row["K"]:>3} {"yes" if row["checkpoint"] else "no":>5} '
              f'{row["static_mb"]:>10.1f} {row["step_peak_mb"]:>10.1f} {row["total_mb"]:>10.1f} '
              f'{ratio:>10} {step_ratio:>9}')
    if baseline is None:
        print('No end-to-end baseline among the configs: ratios omitted.')
    else:
        print(f'Baseline (E2E twin): {baseline["config"]}')


def main(argv=None):
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
