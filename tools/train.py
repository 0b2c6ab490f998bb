# Copyright (c) dynamicnet contributors. All rights reserved.
"""Train a model from a config with the mmengine Runner (mmdet3d 1.4's interface).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    tools/dist_train.sh CONFIG NUM_PROCESSES [args]      # torchrun; gloo on CPU, NCCL on GPU
"""
import argparse
import os
import os.path as osp
import sys

# Run from a checkout without installation as well (mmdet3d's tools rely on PYTHONPATH).
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import dynamicnet  # noqa: E402,F401  (registries, compat adjustments)
from dynamicnet.engine.runners import adapt_to_machine, apply_train_args  # noqa: E402
from dynamicnet.engine.runners import close_distributed, load_config  # noqa: E402
from dynamicnet.engine.runners import validate_config  # noqa: E402
from dynamicnet.utils.errors import friendly_errors  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--sync_bn', choices=['none', 'torch', 'mmcv'], default='none',
                        help='convert BatchNorm layers to SyncBN (torch) or MMSyncBN (mmcv)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='enable automatically scaling LR')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or without a value from the latest '
                        'checkpoint in the work directory')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs, e.g. '
                        'train_cfg.max_epochs=2 "model.backbone.depth=50"')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    with friendly_errors():
        cfg = load_config(args.config, args.cfg_options)
        apply_train_args(cfg, args)
        adapt_to_machine(cfg)
        validate_config(cfg, splits=('train', 'val') if cfg.get('val_cfg') else ('train', ))
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        runner.train()
    close_distributed()


if __name__ == '__main__':
    main()
