# Copyright (c) dynamicnet contributors. All rights reserved.
"""Anytime and budgeted-batch evaluation of a multi-exit model: CSV, PNG and a printed table.

    python tools/analysis_tools/dynamic_eval.py CONFIG CHECKPOINT [--out-dir DIR]
        [--p-range 1 40] [--no-fit] [--work-dir DIR] [--cfg-options k=v ...]

Runs ``runner.test()`` with :class:`dynamicnet.evaluation.EarlyExitMetric` as test evaluator.
The thresholds are fitted on the config's ``fit_dataloader`` (top-level key; the dynamicnet
configs point it at a held-out split of the training set with the test pipeline) through
:class:`dynamicnet.engine.loops.EarlyExitTestLoop`; ``--no-fit`` (or a config without
``fit_dataloader``) fits on the test set itself and the outputs say so.

Outputs in ``--out-dir`` (default ``<work_dir>/dynamic_eval``):

* ``budget_curve.csv``: ``q, gmacs, top1, thresholds..., exit fractions...`` per budget point;
* ``anytime.csv``: ``exit, gmacs, top1``;
* ``budget_curve.png``: accuracy vs GMACs (budgeted curve and anytime steps);
* ``results.json``: everything, including the fitting-set description and size.
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import ConfigDict, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import load_config, validate_config  # noqa: E402
from dynamicnet.utils.errors import friendly_errors  # noqa: E402

PREFIX = 'early_exit'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Anytime / budgeted-batch evaluation')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', help='where CSV/PNG/JSON go (default <work_dir>/dynamic_eval)')
    parser.add_argument('--work-dir', help='runner work directory')
    parser.add_argument('--p-range', nargs=2, type=int, default=None, metavar=('START', 'STOP'),
                        help='q = p / 20 for p in range(START, STOP); default from the config '
                        'metric or (1, 40)')
    parser.add_argument('--no-fit', action='store_true',
                        help='fit thresholds on the test set (sanity check only)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def _early_exit_metric(cfg, p_range):
    evaluators = cfg.get('test_evaluator', None)
    evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
    for ev in evaluators:
        if isinstance(ev, dict) and str(ev.get('type', '')).endswith('EarlyExitMetric'):
            metric = ConfigDict(ev)
            break
    else:
        metric = ConfigDict(type='dynamicnet.EarlyExitMetric')
    metric.prefix = PREFIX
    metric.budget = True
    if p_range is not None:
        metric.p_range = tuple(p_range)
    return metric


def prepare_config(args):
    cfg = load_config(args.config, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint {args.checkpoint!r} does not exist.')
    cfg.load_from = args.checkpoint
    cfg.test_evaluator = _early_exit_metric(cfg, args.p_range)
    fit = None if args.no_fit else cfg.get('fit_dataloader', None)
    cfg.test_cfg = ConfigDict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit)
    if fit is None:
        cfg.test_evaluator.fit_set = 'test'
    validate_config(cfg, splits=('test', ))
    return cfg


def write_outputs(metrics: dict, out_dir: str) -> dict:
    """Write CSV/PNG/JSON files; returns the un-prefixed results."""
    os.makedirs(out_dir, exist_ok=True)
    res = {k[len(PREFIX) + 1:]: v for k, v in metrics.items() if k.startswith(PREFIX + '/')}
    num_exits = len(res['exit_costs'])
    with open(osp.join(out_dir, 'anytime.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['exit', 'gmacs', 'top1'])
        for k in range(1, num_exits + 1):
            writer.writerow([k, res[f'exit{k}/macs'] / 1e9, res[f'exit{k}/top1']])
    with open(osp.join(out_dir, 'budget_curve.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['q', 'gmacs', 'top1'] + [f'threshold{k + 1}' for k in range(num_exits)]
                        + [f'fraction{k + 1}' for k in range(num_exits)])
        for q, macs, top1, thr, frac in zip(res['budget/q'], res['budget/macs'],
                                            res['budget/top1'], res['budget/thresholds'],
                                            res['budget/exit_fractions']):
            writer.writerow([q, macs / 1e9, top1] + list(thr) + list(frac))
    with open(osp.join(out_dir, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    _plot(res, num_exits, osp.join(out_dir, 'budget_curve.png'))
    return res


def _plot(res: dict, num_exits: int, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.plot([m / 1e9 for m in res['budget/macs']], res['budget/top1'], 'o-', ms=3,
            label='budgeted batch')
    ax.plot([res[f'exit{k}/macs'] / 1e9 for k in range(1, num_exits + 1)],
            [res[f'exit{k}/top1'] for k in range(1, num_exits + 1)], 's--', ms=4,
            label='anytime (per exit)')
    ax.set_xlabel('average GMACs per image')
    ax.set_ylabel('top-1 accuracy (%)')
    ax.set_title(f'fit set: {res["fit_set"]} (n={res["fit_size"]})', fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def format_table(res: dict) -> str:
    num_exits = len(res['exit_costs'])
    lines = [f'fit set: {res["fit_set"]} ({res["fit_size"]} samples)', '',
             'anytime prediction', f'{"exit":>5} {"GMACs":>10} {"top-1 %":>8}']
    for k in range(1, num_exits + 1):
        lines.append(f'{k:>5} {res[f"exit{k}/macs"] / 1e9:>10.4f} {res[f"exit{k}/top1"]:>8.2f}')
    lines += ['', 'budgeted batch classification',
              f'{"q":>5} {"GMACs":>10} {"top-1 %":>8}  exit fractions']
    for q, macs, top1, frac in zip(res['budget/q'], res['budget/macs'], res['budget/top1'],
                                   res['budget/exit_fractions']):
        fractions = ' '.join(f'{x:.2f}' for x in frac)
        lines.append(f'{q:>5.2f} {macs / 1e9:>10.4f} {top1:>8.2f}  {fractions}')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    with friendly_errors():
        cfg = prepare_config(args)
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
    out_dir = args.out_dir or osp.join(cfg.work_dir, 'dynamic_eval')
    res = write_outputs(metrics, out_dir)
    print(format_table(res))
    print(f'\nwrote {out_dir}/budget_curve.csv, anytime.csv, budget_curve.png, results.json')
    return res


if __name__ == '__main__':
    main()
