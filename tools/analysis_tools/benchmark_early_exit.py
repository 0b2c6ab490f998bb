# Copyright (c) dynamicnet contributors. All rights reserved.
"""Does saved compute become saved time? Real early exit (batch partitioning) on CPU.

    python tools/analysis_tools/benchmark_early_exit.py CONFIG [CONFIG ...]
        [--checkpoint CKPT ...] [--fraction 0.25 0.5 0.75] [--batch-size 128 ...]
        [--repeat 7] [--threads 1] [--input-shape C H W] [--seed 0] [--cfg-options k=v ...]

For every model (config, optional checkpoint; random weights are fine for timing) and every
requested fraction ``f`` it compares, on one batch of random normal inputs:

* ``full``: :meth:`MultiExitClassifier.early_exit` with no exit reachable before the last (every
  sample through every stage and exit: ``F_K`` MACs per sample);
* ``early@f``: the same call with thresholds that send ``f`` of the batch out at exit 1; the
  rest runs to the last exit and the remaining stages see the smaller batch.

**Exits and MACs come from the evaluator's own code**: the thresholds are
:func:`dynamicnet.evaluation.metrics.early_exit.fit_thresholds` with exit proportions
``(f, 0, ..., 0, 1 - f)`` on the model's confidences for the batch (so ``floor(f B)`` samples,
plus ties, leave at exit 1), the average MACs is ``evaluate_thresholds`` with
:meth:`MultiExitClassifier.exit_costs` (the ``exit_costs`` every prediction carries), i.e. exactly
what :class:`EarlyExitMetric` reports, and the real early-exit path must take the same exits
(checked). Printed per fraction: MACs saving ``1 - MACs/F_K``, time saving ``1 - t_early/t_full``
and their ratio (target >= 0.8: "the time saving reaches 80 % of the MACs saving").

**Timing protocol**: ``torch.set_num_threads(--threads)`` (default 1); one untimed warm-up call of
every mode, then ``--repeat`` rounds that run every mode once, in reversed order every other
round (full and early runs interleave, so load changes on a shared machine hit both alike);
medians over rounds. Both wall time (``perf_counter``) and process CPU time (``process_time``)
are recorded: with one thread they agree on an idle machine, and CPU time does not count the
time the process waits for a core while other jobs run.

**Batch size and fixed per-call cost.** Every stage call also pays batch-independent time:
Python dispatch of each op, reading the weights once, the exit bookkeeping. Early exit cannot
save it, and if ``a`` is its share of the full run, time ~ ``a + (1 - a) x MACs`` gives a ratio
of about ``1 - a``. The tool measures it: the full network also runs on a quarter of the batch
(interleaved like the rest), ``t(n) = t0 + b n`` through both points gives
``a = t0 / t(B)``, printed with the cap ``1 - a``; when the cap is below 0.8 it says that the
fixed cost, not the model, is measured. ``--batch-size`` (one value, or one per config) sets
``B``; the default 128 keeps ``a`` at a few percent for the CIFAR-size models (MSDNet ~1 %, the
tiny GFNet ~5 %, whose 1.7M-MAC steps are dominated by dispatch at batch 16); the 224x224
ImageNet models are heavy enough per sample that the READMEs use 32.

Output: per model a header, the full-network time and fixed share, one row per fraction, and
as the last line the wall-time ratios of every model and fraction.
"""
import argparse
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import load_config  # noqa: E402
from dynamicnet.evaluation.metrics.early_exit import (evaluate_thresholds,  # noqa: E402
                                                      fit_thresholds)

TARGET = 0.8


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Early-exit wall time vs MACs on CPU')
    parser.add_argument('configs', nargs='+', help='configs of MultiExitClassifier models')
    parser.add_argument('--checkpoint', nargs='+', default=None,
                        help='one checkpoint per config (optional; random weights otherwise)')
    parser.add_argument('--fraction', type=float, nargs='+', default=[0.25, 0.5, 0.75],
                        help='fractions of the batch sent out at exit 1')
    parser.add_argument('--batch-size', type=int, nargs='+', default=[128],
                        help='benchmark batch, one value or one per config (see the docstring)')
    parser.add_argument('--repeat', type=int, default=7, help='timed rounds (median)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--input-shape', type=int, nargs=3, default=None, metavar=('C', 'H', 'W'),
                        help='default: test_cfg.cost_input_shape of each model')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, key=value pairs')
    args = parser.parse_args(argv)
    if args.checkpoint is not None and len(args.checkpoint) != len(args.configs):
        parser.error(f'{len(args.checkpoint)} checkpoints for {len(args.configs)} configs')
    if len(args.batch_size) not in (1, len(args.configs)):
        parser.error(f'give one --batch-size or one per config ({len(args.configs)})')
    return args


def interleaved_times(modes: Dict[str, Callable],
                      repeat: int) -> Dict[str, Tuple[List[float], List[float]]]:
    """Wall and CPU seconds of every mode in every round: one untimed warm-up call each, then
    ``repeat`` rounds that run every mode once, the order reversed every other round."""
    for fn in modes.values():
        fn()
    names = list(modes)
    times: Dict[str, Tuple[List[float], List[float]]] = {n: ([], []) for n in names}
    for r in range(repeat):
        for name in (names if r % 2 == 0 else names[::-1]):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            modes[name]()
            times[name][1].append(time.process_time() - cpu0)
            times[name][0].append(time.perf_counter() - wall0)
    return times


def paired_ratio(early: Sequence[float], full: Sequence[float]) -> float:
    """Median over rounds of ``early / full`` (each ratio from runs close in time, so a load
    change between rounds cancels out)."""
    return statistics.median(e / f for e, f in zip(early, full))


def fixed_share(t_full: float, t_small: float, batch: int, small: int) -> float:
    """Batch-independent share ``t0 / t(B)`` of the line ``t(n) = t0 + b n`` through
    ``(small, t_small)`` and ``(batch, t_full)``."""
    t0 = (batch * t_small - small * t_full) / (batch - small)
    return t0 / t_full


@torch.no_grad()
def benchmark(model, inputs: torch.Tensor, fractions: Sequence[float], repeat: int) -> dict:
    """Time the full network and the early exit at every fraction on ``inputs``.

    Returns:
        ``dict(costs, t_full, t_full_cpu, fixed_share, rows)``; each row has ``fraction``,
        ``exited`` (samples out at exit 1), ``macs_saving``, ``time_saving``,
        ``time_saving_cpu``, ``ratio``, ``ratio_cpu``, ``t_early``, ``t_early_cpu``.
    """
    batch, num_exits = inputs.size(0), model.num_exits
    costs = model.exit_costs(tuple(inputs.shape[1:]))
    conf = torch.stack([F.softmax(x, dim=1).max(dim=1).values
                        for x in model.forward_exits(inputs)])  # (K, B)
    correct = torch.zeros_like(conf, dtype=torch.bool)  # accuracy is not measured here

    def proportions(fraction: float) -> torch.Tensor:
        p = torch.zeros(num_exits, dtype=torch.float32)
        p[0], p[-1] = fraction, 1 - fraction
        return p

    never = fit_thresholds(conf, proportions(0.0))
    settings = []
    for fraction in fractions:
        thresholds = fit_thresholds(conf, proportions(fraction))
        _, macs, counts = evaluate_thresholds(conf, correct, thresholds, costs)
        _, exit_index = model.early_exit(inputs, thresholds)
        real = torch.bincount(exit_index, minlength=num_exits)
        if not torch.equal(real, counts):
            raise RuntimeError(f'early_exit took exits {real.tolist()}, the evaluator\'s '
                               f'threshold rule {counts.tolist()}')
        settings.append((fraction, thresholds, macs, int(counts[0])))

    small = max(1, batch // 4)
    modes = {'full': lambda: model.early_exit(inputs, never),
             'full/4': lambda: model.early_exit(inputs[:small], never)}
    for fraction, thresholds, _, _ in settings:
        modes[f'early@{fraction}'] = (lambda t=thresholds: model.early_exit(inputs, t))
    times = interleaved_times(modes, repeat)
    full_wall, full_cpu = times['full']
    rows = []
    for fraction, _, macs, exited in settings:
        early_wall, early_cpu = times[f'early@{fraction}']
        macs_saving = 1 - macs / costs[-1]
        time_saving = 1 - paired_ratio(early_wall, full_wall)
        time_saving_cpu = 1 - paired_ratio(early_cpu, full_cpu)
        rows.append(
            dict(fraction=fraction, exited=exited, macs_saving=macs_saving,
                 time_saving=time_saving, time_saving_cpu=time_saving_cpu,
                 ratio=time_saving / macs_saving if macs_saving > 0 else float('nan'),
                 ratio_cpu=time_saving_cpu / macs_saving if macs_saving > 0 else float('nan'),
                 t_early=statistics.median(early_wall), t_early_cpu=statistics.median(early_cpu)))
    t_full_cpu = statistics.median(full_cpu)
    share = fixed_share(t_full_cpu, statistics.median(times['full/4'][1]), batch, small)
    return dict(costs=costs, t_full=statistics.median(full_wall), t_full_cpu=t_full_cpu,
                fixed_share=share, rows=rows)


def report(name: str, model, result: dict, batch: int, shape, args) -> None:
    costs = result['costs']
    print(f'== {name} ({type(model).__name__}): {model.num_exits} exits, cumulative MMACs '
          + ', '.join(f'{c / 1e6:.1f}' for c in costs)
          + f'; batch {batch} x {tuple(shape)}, {args.threads} thread(s), median of '
          f'{args.repeat} interleaved rounds')
    share = result['fixed_share']
    print(f'full network: {1e3 * result["t_full"]:.1f} ms wall, '
          f'{1e3 * result["t_full_cpu"]:.1f} ms cpu; batch-independent time {100 * share:.1f} % '
          f'of it (full runs at batch {batch} and {max(1, batch // 4)}), ratio cap ~'
          f'{1 - share:.2f}')
    if 1 - share < TARGET:
        print(f'  -> fixed per-call cost, not the model, dominates at batch {batch}: '
              'raise --batch-size')
    print(f'{"fraction":>8} {"exit@1":>7} {"MACs saving":>11} {"time saving wall/cpu":>21} '
          f'{"ratio wall/cpu":>15} {"t_early ms wall/cpu":>20}')
    for r in result['rows']:
        print(f'{r["fraction"]:>8.2f} {r["exited"]:>7d} {r["macs_saving"]:>11.3f} '
              f'{r["time_saving"]:>13.3f} / {r["time_saving_cpu"]:.3f} '
              f'{r["ratio"]:>8.2f} / {r["ratio_cpu"]:.2f} '
              f'{1e3 * r["t_early"]:>11.1f} / {1e3 * r["t_early_cpu"]:.1f}')


def main(argv=None) -> List[Tuple[str, dict]]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    results = []
    for i, config in enumerate(args.configs):
        torch.manual_seed(args.seed)
        cfg = load_config(config, args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmengine'))
        model = MODELS.build(cfg.model)
        if args.checkpoint:
            load_checkpoint(model, args.checkpoint[i], map_location='cpu')
        model.eval()
        shape = args.input_shape or model.test_cfg.get('cost_input_shape')
        if shape is None:
            raise ValueError(f'{config}: give --input-shape C H W (the model has no '
                             'test_cfg.cost_input_shape)')
        batch = args.batch_size[i] if len(args.batch_size) > 1 else args.batch_size[0]
        inputs = torch.randn(batch, *shape)
        name = osp.splitext(osp.basename(config))[0]
        result = benchmark(model, inputs, args.fraction, args.repeat)
        report(name, model, result, batch, shape, args)
        results.append((name, result))
    summary = ' | '.join(
        f'{name} ' + ' '.join(f'{r["ratio"]:.2f}' for r in res['rows']) for name, res in results)
    print(f'time saving / MACs saving (wall; fractions {" ".join(map(str, args.fraction))}; '
          f'target >= {TARGET}): {summary}')
    return results


if __name__ == '__main__':
    main()
