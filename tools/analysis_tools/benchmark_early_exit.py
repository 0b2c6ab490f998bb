# Copyright (c) dynamicnet contributors. All rights reserved.
"""Does saved compute become saved time? Real early exit (batch partitioning) on CPU.

    python tools/analysis_tools/benchmark_early_exit.py CONFIG [CONFIG ...]
        [--checkpoint CKPT ...] [--fraction 0.25 0.5 0.75] [--batch-size B ...]
        [--repeat 15] [--threads 1] [--input-shape C H W] [--seed 0] [--cfg-options k=v ...]

For every model (config, optional checkpoint; random weights are fine for timing) and every
requested fraction ``f`` it compares, on one batch of random normal inputs:

* ``full``: :meth:`MultiExitClassifier.early_exit` with no exit reachable before the last (every
  sample through every stage and exit: ``F_K`` MACs per sample);
* ``early@f``: the same call with thresholds that send ``f`` of the batch out at exit 1; the
  rest runs to the last exit and the remaining stages see the smaller batch.

**Exits and MACs come from the evaluator's own code**: the thresholds are
:func:`dynamicnet.evaluation.metrics.early_exit.fit_thresholds` with exit proportions
``(f, 0, ..., 0, 1 - f)`` on the model's confidences for the batch (so ``floor(f B)`` samples,
plus ties, leave at exit 1), and the average MACs is ``evaluate_thresholds`` with the per-exit
costs of :meth:`MultiExitClassifier.exit_costs` for the benchmark's input shape (by default
``test_cfg.cost_input_shape``, the ``exit_costs`` every prediction carries): exactly what
:class:`EarlyExitMetric` reports for those exits. The real early-exit path must take the same
exits (checked). Printed per fraction: MACs saving ``1 - MACs / F_K``, time saving
``1 - t_early / t_full`` and their ratio (the target, >= 0.8, is "the time saving reaches 80 % of
the MACs saving").

**Timing protocol**: ``torch.set_num_threads(--threads)`` (default 1); one untimed warm-up call of
every mode, then ``--repeat`` rounds that run every mode once, in reversed order every other
round, so full and early runs interleave. ``t_early / t_full`` is the median over rounds of the
ratio within a round (runs close in time share the machine's load; a slow round slows both);
the printed times are medians. Wall time (``perf_counter``) and process CPU time
(``process_time``) are both recorded: with one thread they agree on an idle machine, and CPU
time leaves out the time the process waited for a core while other jobs ran. The saving ratio
amplifies timing noise by ``1 / MACs saving`` (x4.5 at ``f = 0.25`` for MSDNet), hence the
15 rounds by default.

**Why a ratio falls short: the stages after exit 1.** Early exit saves the time of the stages
after exit 1 on the samples that left. The tool also runs stage 1 alone (everybody leaves at
exit 1) and both modes on a quarter of the batch, all interleaved with the rest; from the CPU
times it prints (i) the later stages' share of the full run's time next to their share of its
MACs, ``1 - F_1 / F_K``, and (ii) the batch-independent share ``a`` of their time: the intercept
of the line ``t(n) = t0 + b n`` through their times at ``B`` and ``B / 4`` -- the batch sizes they
see -- over ``t(B)``. A stage call pays batch-independent time for Python dispatch of every op,
reading every weight and kernels that are less efficient on few samples; early exit cannot
save it. The expected ratio is ``(time share / MACs share) x (1 - a)``; the tool says which
factor is below 0.8 when one is. ``a`` below 0 means a sample costs less in a smaller batch
(e.g. its activations stay in cache). A large ``a`` means the per-call cost, not the model, is
measured: raise ``--batch-size`` (one value, or one per config). The tool also counts the minor
page faults of one full call and of stage 1 alone: memory the allocator handed back to the OS
and takes again costs the kernel a zero-fill per 4 KiB page (about 2-2.5 us each on the machine
of the READMEs), which MACs do not see (the tiny MSDNet, 14 000 per call at batch 128).
Where the kernel does not count minor faults (``getrusage`` reports 0, as in some sandboxes)
the tool says so instead of printing zeros.

**Allocator**: by default the tool first asks glibc to keep freed memory in the process
(:func:`dynamicnet.utils.allocator.keep_freed_memory`, ``mallopt``: blocks up to 32 MiB from the
heap, no trimming), which is what the caching allocators jemalloc and tcmalloc do and what
PyTorch's CPU launcher (``python -m torch.backends.xeon.run_cpu``) preloads for inference. With
glibc's defaults the buffers that oneDNN allocates per call go back to the OS and every call
zero-fills them afresh, time that no model skips (the tiny MSDNet: 10 000-12 000 faults, about a
quarter of its full run at batch 128). Both modes run in the same process under the same
setting; the header says which; ``--system-allocator`` keeps glibc's defaults (its README gives
both).

**Batch size**: ``--batch-size``, else the model's ``test_cfg.benchmark_batch_size`` (a config
documents there the batch its early exit is timed at when 128 would measure per-call costs),
else 128; the header says which. 128 suits the CIFAR-size and tiny MSDNets and the tiny DVT
(their later stages have no batch-independent time there). The tiny GFNet's config sets 1024:
its encoder sees 16x16 crops, and at 128 a quarter to a third of its focus steps' time is
per-call time of the encoder (oneDNN convolutions on 4x4 to 1x1 maps, module calls). The READMEs
of MSDNet, DVT and GFNet give the batch of each model (ImageNet-size models 32-64), the commands
and the measured ranges.

Output: per model a header, the full-network time with (i), (ii) and the expected ratio, one
row per fraction, and as the last line the wall-time ratios of every model and fraction.
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
from dynamicnet.utils.allocator import (keep_freed_memory, minor_page_faults,  # noqa: E402
                                        page_faults_counted)
from dynamicnet.utils.timing import paired_ratio  # noqa: E402

TARGET = 0.8
DEFAULT_BATCH = 128


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Early-exit wall time vs MACs on CPU')
    parser.add_argument('configs', nargs='+', help='configs of MultiExitClassifier models')
    parser.add_argument('--checkpoint', nargs='+', default=None,
                        help='one checkpoint per config (optional; random weights otherwise)')
    parser.add_argument('--fraction', type=float, nargs='+', default=[0.25, 0.5, 0.75],
                        help='fractions of the batch sent out at exit 1')
    parser.add_argument('--batch-size', type=int, nargs='+', default=None,
                        help='benchmark batch, one value or one per config; default: each '
                        f'model\'s test_cfg.benchmark_batch_size, else {DEFAULT_BATCH}')
    parser.add_argument('--repeat', type=int, default=15, help='timed rounds (median)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--input-shape', type=int, nargs=3, default=None, metavar=('C', 'H', 'W'),
                        help='default: test_cfg.cost_input_shape of each model')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--system-allocator', action='store_true',
                        help='keep glibc\'s malloc defaults (freed buffers go back to the OS '
                        'and are page-faulted in again); default: keep freed memory')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, key=value pairs')
    args = parser.parse_args(argv)
    if args.checkpoint is not None and len(args.checkpoint) != len(args.configs):
        parser.error(f'{len(args.checkpoint)} checkpoints for {len(args.configs)} configs')
    if args.batch_size is not None and len(args.batch_size) not in (1, len(args.configs)):
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


def fixed_share(t_big: float, t_small: float, big: int, small: int) -> float:
    """Batch-independent share ``t0 / t(big)`` of the line ``t(n) = t0 + b n`` through
    ``(small, t_small)`` and ``(big, t_big)``."""
    t0 = (big * t_small - small * t_big) / (big - small)
    return t0 / t_big


@torch.no_grad()
def benchmark(model, inputs: torch.Tensor, fractions: Sequence[float], repeat: int) -> dict:
    """Time the full network and the early exit at every fraction on ``inputs``.

    Returns:
        ``dict(page_faults, page_faults_exit1, costs, t_full, t_full_cpu, later_time_share,
        later_macs_share, later_fixed_share, predicted_ratio, rows)`` (see the module
        docstring; the page faults are of one untimed call of the full network and of stage 1
        alone); each row has
        ``fraction``, ``exited`` (samples out at exit 1), ``macs_saving``, ``time_saving``,
        ``time_saving_cpu``, ``ratio``, ``ratio_cpu``, ``t_early``, ``t_early_cpu``.
    """
    batch, num_exits = inputs.size(0), model.num_exits
    costs = model.exit_costs(tuple(inputs.shape[1:]))
    conf = torch.stack([F.softmax(x, dim=1).max(dim=1).values
                        for x in model.forward_exits(inputs)])  # (K, B)
    correct = torch.zeros_like(conf, dtype=torch.bool)  # accuracy is not measured here

    def thresholds_for(fraction: float) -> torch.Tensor:
        """The evaluator's thresholds for exit proportions (f, 0, ..., 0, 1 - f)."""
        p = torch.zeros(num_exits, dtype=torch.float32)
        p[0], p[-1] = fraction, 1 - fraction
        return fit_thresholds(conf, p)

    settings = []
    for fraction in fractions:
        thresholds = thresholds_for(fraction)
        _, macs, counts = evaluate_thresholds(conf, correct, thresholds, costs)
        _, exit_index = model.early_exit(inputs, thresholds)
        real = torch.bincount(exit_index, minlength=num_exits)
        if not torch.equal(real, counts):
            raise RuntimeError(f'early_exit took exits {real.tolist()}, the evaluator\'s '
                               f'threshold rule {counts.tolist()}')
        settings.append((fraction, thresholds, macs, int(counts[0])))

    # the full network and stage 1 alone (everybody leaves at exit 1), at B and B / 4: the
    # stages after exit 1 -- the part early exit skips -- are their difference
    small = max(1, batch // 4)
    never, first = thresholds_for(0.0), thresholds_for(1.0)
    modes = {
        'full': lambda: model.early_exit(inputs, never),
        'full/4': lambda: model.early_exit(inputs[:small], never),
        'exit1': lambda: model.early_exit(inputs, first),
        'exit1/4': lambda: model.early_exit(inputs[:small], first),
    }
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
    cpu = {name: statistics.median(t[1]) for name, t in times.items()}
    later = cpu['full'] - cpu['exit1']
    later_time_share = later / cpu['full']
    later_macs_share = 1 - costs[0] / costs[-1]
    later_fixed_share = fixed_share(later, cpu['full/4'] - cpu['exit1/4'], batch, small)
    return dict(
        page_faults=minor_page_faults(modes['full']),
        page_faults_exit1=minor_page_faults(modes['exit1']),
        costs=costs,
        t_full=statistics.median(full_wall),
        t_full_cpu=cpu['full'],
        later_time_share=later_time_share,
        later_macs_share=later_macs_share,
        later_fixed_share=later_fixed_share,
        predicted_ratio=later_time_share / later_macs_share * (1 - later_fixed_share),
        rows=rows)


def benchmark_batch(model, args, i: int) -> Tuple[int, str]:
    """The batch of the ``i``-th config and where it comes from (see the docstring)."""
    if args.batch_size is not None:
        return args.batch_size[i if len(args.batch_size) > 1 else 0], '--batch-size'
    if 'benchmark_batch_size' in model.test_cfg:
        return int(model.test_cfg['benchmark_batch_size']), 'test_cfg.benchmark_batch_size'
    return DEFAULT_BATCH, 'default'


def report(name: str, model, result: dict, batch: int, source: str, shape, args) -> None:
    costs = result['costs']
    print(f'== {name} ({type(model).__name__}): {model.num_exits} exits, cumulative MMACs '
          + ', '.join(f'{c / 1e6:.1f}' for c in costs)
          + f'; batch {batch} ({source}) x {tuple(shape)}, {args.threads} thread(s), median of '
          f'{args.repeat} interleaved rounds')
    time_share, macs_share = result['later_time_share'], result['later_macs_share']
    fixed = result['later_fixed_share']
    print(f'full network: {1e3 * result["t_full"]:.1f} ms wall, '
          f'{1e3 * result["t_full_cpu"]:.1f} ms cpu; stages after exit 1: '
          f'{100 * time_share:.1f} % of its cpu time for {100 * macs_share:.1f} % of its MACs, '
          f'{100 * fixed:.1f} % of their time batch-independent (batch {batch} vs '
          f'{max(1, batch // 4)}): expected ratio ~{result["predicted_ratio"]:.2f}')
    if 1 - fixed < TARGET:
        print(f'  -> the later stages\' per-call cost, not the model, dominates at batch {batch}: '
              'raise --batch-size')
    if page_faults_counted():
        print(f'minor page faults per call: full network {result["page_faults"]}, stage 1 '
              f'alone {result["page_faults_exit1"]} (fresh pages the kernel zero-fills; at a few '
              'us each they are time that MACs do not see)')
    else:
        print('minor page faults per call: not counted by this kernel (getrusage reports 0)')
    if time_share / macs_share < TARGET:
        print('  -> the later stages take a smaller share of the time than of the MACs on this '
              'machine: skipping them saves less time than MACs')
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
    kept = not args.system_allocator and keep_freed_memory()
    print('allocator: ' + ('freed memory kept in the process (mallopt; --system-allocator for '
                           'glibc defaults)' if kept else 'system defaults'))
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
        batch, source = benchmark_batch(model, args, i)
        inputs = torch.randn(batch, *shape)
        name = osp.splitext(osp.basename(config))[0]
        result = benchmark(model, inputs, args.fraction, args.repeat)
        report(name, model, result, batch, source, shape, args)
        results.append((name, result))
    summary = ' | '.join(
        f'{name} ' + ' '.join(f'{r["ratio"]:.2f}' for r in res['rows']) for name, res in results)
    print(f'time saving / MACs saving (wall; fractions {" ".join(map(str, args.fraction))}; '
          f'target >= {TARGET}): {summary}')
    return results


if __name__ == '__main__':
    main()
