# Copyright (c) dynamicnet contributors. All rights reserved.
"""Evaluate a checkpoint with the config's test dataloader and evaluator (mmdet3d 1.4's interface).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options k=v ...] [--tta]
    tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [args]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import adapt_to_machine, apply_test_args  # noqa: E402
from dynamicnet.engine.runners import close_distributed, load_config  # noqa: E402
from dynamicnet.engine.runners import validate_config  # noqa: E402
from dynamicnet.utils.errors import friendly_errors  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the file containing evaluation '
                        'metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
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
        apply_test_args(cfg, args)
        adapt_to_machine(cfg)
        validate_config(cfg, splits=('test', ))
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        metrics = runner.test()
    close_distributed()
    return metrics


if __name__ == '__main__':
    main()
