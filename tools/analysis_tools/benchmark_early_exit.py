# Copyright (c) dynamicnet contributors. All rights reserved.
"""Does saved compute become saved time? Early exit with batch partitioning on CPU.

    python tools/analysis_tools/benchmark_early_exit.py CONFIG [CHECKPOINT]
        [--fraction 0.5 ...] [--batch-size 64] [--repeat 5] [--threads 1]
        [--input-shape 3 32 32] [--cfg-options k=v ...]

For every requested fraction ``f`` the exit-1 threshold is set to the confidence quantile that
sends ``f`` of the benchmark batch out at exit 1 and every other threshold above 1, so the rest
runs to the last exit. In the same run it times

* ``full``: :meth:`MultiExitClassifier.early_exit` with every threshold above 1 (all samples
  through all stages and exits: cost ``F_K`` per sample);
* ``early``: the same call with the fitted thresholds (the exited samples are removed from the
  batch before stage 2: cost ``f F_1 + (1 - f) F_K``),

(medians of ``--repeat`` alternating runs after a warm-up) and prints the wall-time ratio next
to the MACs
ratio, and how much of the MACs saving became time saving (target >= 80%). Inputs are random
normal tensors of ``--input-shape`` (default: ``test_cfg.cost_input_shape`` of the model); exits
are decided by the model's real confidences on them. Random weights (no checkpoint) are fine for
timing.
"""
import argparse
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Early-exit wall time vs MACs on CPU')
    parser.add_argument('config', help='config of a MultiExitClassifier model')
    parser.add_argument('checkpoint', nargs='?', default=None, help='checkpoint (optional)')
    parser.add_argument('--fraction', type=float, nargs='+', default=[0.25, 0.5, 0.75],
                        help='fractions of the batch sent out at exit 1')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--repeat', type=int, default=7,
                        help='timed runs per setting and mode (median)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--input-shape', type=int, nargs=3, default=None, metavar=('C', 'H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def _paired_times(full, early, repeat: int) -> tuple:
    """Median wall times of two callables, timed alternately so that load changes on a shared
    machine hit both alike (one untimed warm-up call each)."""
    full()
    early()
    times_full, times_early = [], []
    for _ in range(repeat):
        for fn, times in ((full, times_full), (early, times_early)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_full), statistics.median(times_early)


@torch.no_grad()
def benchmark(model, inputs: torch.Tensor, fractions, repeat: int) -> list:
    """Rows ``dict(fraction, exited, macs_ratio, time_ratio, saving_ratio, t_full, t_early)``."""
    num_exits = model.num_exits
    costs = model.exit_costs(tuple(inputs.shape[1:]))
    never = [1.01] * num_exits
    conf = F.softmax(model.forward_exits(inputs)[0], dim=1).max(dim=1).values
    rows = []
    for fraction in fractions:
        n_out = int(round(fraction * inputs.size(0)))
        if n_out == 0:
            threshold = 1.01
        else:
            threshold = float(conf.sort(descending=True).values[n_out - 1])
        thresholds = [threshold] + [1.01] * (num_exits - 1)
        _, exit_index = model.early_exit(inputs, thresholds)
        counts = torch.bincount(exit_index, minlength=num_exits).double()
        macs = float((counts / inputs.size(0) * torch.tensor(costs, dtype=torch.float64)).sum())
        t_full, t_early = _paired_times(lambda: model.early_exit(inputs, never),
                                        lambda: model.early_exit(inputs, thresholds), repeat)
        macs_ratio = macs / costs[-1]
        time_ratio = t_early / t_full
        saving = (1 - time_ratio) / (1 - macs_ratio) if macs_ratio < 1 else float('nan')
        rows.append(
            dict(fraction=fraction, exited=int(counts[0]), macs_ratio=macs_ratio,
                 time_ratio=time_ratio, saving_ratio=saving, t_full=t_full, t_early=t_early))
    return rows


def main(argv=None) -> list:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    shape = args.input_shape or model.test_cfg.get('cost_input_shape')
    if shape is None:
        raise ValueError('give --input-shape C H W (the model has no test_cfg.cost_input_shape)')
    inputs = torch.randn(args.batch_size, *shape)
    rows = benchmark(model, inputs, args.fraction, args.repeat)
    costs = model.exit_costs(tuple(shape))
    print(f'{type(model).__name__}: {model.num_exits} exits, cumulative GMACs '
          + ', '.join(f'{c / 1e9:.4f}' for c in costs)
          + f'; batch {args.batch_size} x {tuple(shape)}, {args.threads} thread(s), '
          f'median of {args.repeat}')
    print(f'{"fraction":>8} {"exited@1":>8} {"MACs ratio":>10} {"time ratio":>10} '
          f'{"t_full ms":>9} {"t_early ms":>10} {"time saving / MACs saving":>26}')
    for r in rows:
        print(f'{r["fraction"]:>8.2f} {r["exited"]:>8d} {r["macs_ratio"]:>10.3f} '
              f'{r["time_ratio"]:>10.3f} {1e3 * r["t_full"]:>9.1f} {1e3 * r["t_early"]:>10.1f} '
              f'{r["saving_ratio"]:>26.2f}')
    met = sum(r['saving_ratio'] >= 0.8 for r in rows)
    print(f'time saving >= 80% of the MACs saving at {met} of {len(rows)} fractions')
    return rows


if __name__ == '__main__':
    main()
