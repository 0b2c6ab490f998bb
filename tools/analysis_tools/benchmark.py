# Copyright (c) dynamicnet contributors. All rights reserved.
"""Inference speed of a model on its test dataloader, on CUDA or CPU (mmdet3d 1.4's interface).

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--samples 200] [--warmup 5]
        [--log-interval 50] [--fuse-conv-bn] [--amp] [--device cpu|cuda]

Unlike mmdet3d's version, the config's own default scope is used (any task), the checkpoint is
optional (random weights time the same), and CPU timing works; CUDA timing synchronises the device
around each step.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.model.utils import revert_sync_batchnorm  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402
from mmengine.runner import Runner, autocast, load_checkpoint  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import load_config, validate_config  # noqa: E402
from dynamicnet.utils.errors import friendly_errors  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark inference speed')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?', default=None, help='checkpoint file (optional)')
    parser.add_argument('--samples', type=int, default=200, help='samples to time')
    parser.add_argument('--warmup', type=int, default=5, help='untimed warm-up iterations')
    parser.add_argument('--log-interval', type=int, default=50, help='interval of logging')
    parser.add_argument('--fuse-conv-bn', action='store_true', help='fuse conv and bn layers')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def benchmark(args) -> float:
    """Returns samples per second over the timed iterations."""
    cfg = load_config(args.config, args.cfg_options)
    validate_config(cfg, splits=('test', ))
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    cfg.test_dataloader.batch_size = 1
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    if args.fuse_conv_bn:
        from mmcv.cnn import fuse_conv_bn
        model = fuse_conv_bn(model)
    model = model.to(args.device).eval()
    loader = Runner.build_dataloader(cfg.test_dataloader)

    elapsed, timed = 0.0, 0
    for i, batch in enumerate(loader):
        if timed >= args.samples:
            break
        _sync(args.device)
        start = time.perf_counter()
        with autocast(enabled=args.amp), torch.no_grad():
            model.test_step(batch)
        _sync(args.device)
        if i >= args.warmup:
            elapsed += time.perf_counter() - start
            timed += 1
            if timed % args.log_interval == 0:
                print(f'Done sample [{timed:<3}/{args.samples}], '
                      f'fps: {timed / elapsed:.2f} sample / s')
    if timed == 0:
        raise RuntimeError(f'The test set has {i + 1} samples, not more than --warmup '
                           f'{args.warmup}: nothing was timed.')
    fps = timed / elapsed
    print(f'Overall fps ({args.device}, {timed} samples): {fps:.2f} sample / s, '
          f'{1000 / fps:.1f} ms / sample')
    return fps


def main(argv=None):
    args = parse_args(argv)
    with friendly_errors():
        return benchmark(args)


if __name__ == '__main__':
    main()
