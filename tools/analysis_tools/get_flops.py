# Copyright (c) dynamicnet contributors. All rights reserved.
"""Count a model's multiply-accumulates (MACs, reported as "FLOPs" by the covered papers) and
parameters on real samples of the config's validation dataloader.

    python tools/analysis_tools/get_flops.py CONFIG [--num-samples 10] [--rules macs|condensenet]
        [--mode predict|tensor] [--cfg-options k=v ...]

Counting uses the one counter of dynamicnet, :func:`dynamicnet.utils.complexity.count_macs`, whose
rule sets are documented there (``macs``: convolutions, linear layers and analytic module costs;
``condensenet``: CondenseNetV2's official counting rules). Models that define ``exit_costs()``
(multi-exit, dynamic) also get their per-exit cumulative cost table printed, since a single
number cannot describe them.
"""
import argparse
import os.path as osp
import sys
import tempfile

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.model import revert_sync_batchnorm  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import load_config, validate_config  # noqa: E402
from dynamicnet.utils.complexity import RULE_SETS, count_macs, count_params  # noqa: E402
from dynamicnet.utils.errors import friendly_errors  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count MACs and parameters of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--num-samples', type=int, default=10,
                        help='number of validation samples to average over')
    parser.add_argument('--rules', choices=sorted(RULE_SETS), default='macs',
                        help='counting rules (see dynamicnet/utils/complexity.py)')
    parser.add_argument('--mode', choices=['predict', 'tensor'], default='predict',
                        help='forward mode used for counting')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def get_flops(args) -> dict:
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = tempfile.mkdtemp()
    cfg.val_dataloader.batch_size = 1
    validate_config(cfg, splits=('val', ))
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.eval()
    loader = Runner.build_dataloader(cfg.val_dataloader)
    macs = []
    for idx, batch in enumerate(loader):
        if idx == args.num_samples:
            break
        data = model.data_preprocessor(batch, False)
        forward = lambda: model(**data, mode=args.mode)  # noqa: E731
        macs.append(count_macs(model, (), rules=args.rules, forward=forward))
    result = dict(macs=float(np.mean(macs)), params=count_params(model, rules=args.rules),
                  samples=len(macs), rules=args.rules)
    if hasattr(model, 'exit_costs'):
        result['exit_costs'] = [float(c) for c in model.exit_costs()]
    return result


def main(argv=None):
    args = parse_args(argv)
    with friendly_errors(), torch.no_grad():
        result = get_flops(args)
    line = '=' * 40
    print(f'{line}\nConfig: {args.config}\nRules: {result["rules"]} '
          f'(averaged over {result["samples"]} validation samples)\n'
          f'MACs ("FLOPs"): {result["macs"] / 1e9:.4f} G\n'
          f'Params: {result["params"] / 1e6:.4f} M')
    if 'exit_costs' in result:
        for k, cost in enumerate(result['exit_costs'], 1):
            print(f'  exit {k}: cumulative {cost / 1e9:.4f} GMACs')
    print(line)
    return result


if __name__ == '__main__':
    main()
