# Copyright (c) dynamicnet contributors. All rights reserved.
"""Benchmark dynamicnet's ISDA (one row of ``S`` per distinct label) against the official
per-sample formulation on the same tensors, plus a ResNet-32 CIFAR train step with and without ISDA.

For each setting it first checks that both formulations give the same loss, gradients (features,
classifier weight and bias) and estimator state, then prints, measured in the same run:

* time of one loss forward + backward (estimator update included),
* peak memory allocated during that call above what was allocated before it (CUDA: the
  allocator's peak; CPU: the peak of the running sum of the allocations and frees that
  ``torch.profiler(profile_memory=True)`` records),
* the FLOP bound: the multiply-adds the label-row formulation cannot avoid (logits forward and
  backward, the estimator's batch scatter and merge, the ``U`` rows of ``S`` and their backward;
  :func:`unavoidable_macs`) divided by a measured matmul rate, in two ways:

  - at the rate of a square float32 GEMM (``1024³`` on CPUs, ``4096³`` on GPUs): the
    machine's large-GEMM rate, a FLOP roofline that no implementation of these small, thin
    products reaches; where the problem is bound by memory traffic (full covariance with few
    classes: each merge reads and writes an ``A × A`` state for ``1 + m`` rank-one terms) the
    ratio to it cannot approach 1;
  - at the rate the machine reaches on **exactly the matmuls that the bound counts**, at their
    shapes (:func:`bound_gemms`: the three logits GEMMs, and per distinct label the
    ``A × (1 + m_c) × A`` accumulation into a ``(A, A)`` state followed by the
    ``(C, A) × (A, A)`` row product on that state while it is in cache, then the two contractions
    of those products in the backward, or the diagonal rows' three GEMMs), timed alone on random
    tensors of those shapes. This bound is what the counted multiply-adds cost as matmuls on
    this machine, with nothing else: no estimator bookkeeping, no scaling pass over the state,
    no cross-entropy, no autograd.

All timings are medians over rounds in which every timed function of a comparison runs once in
turn (after a warm-up round), so that load from other processes on a shared machine affects all
of them alike; the printed ratios (speed-up, ratios to the bounds, train-step overhead) are
medians of the per-round ratios (:func:`dynamicnet.utils.timing.paired_ratio`). The label rows
against the per-sample formulation and the train steps run ``--repeat`` rounds; the label rows
against the bounds' matmuls run ``--bound-repeat`` rounds (default 30; a round costs a few
calls of the label rows), because that ratio is near 1 and a single round of it varies by
±10 % on a shared machine: 5 rounds put its median anywhere in 1.40–1.51× at C=10 on this CPU,
20 rounds in 1.42–1.45×.

CPU runs use ``--threads`` (default 1, as the other CPU benchmarks under
``tools/analysis_tools``; printed): with more threads than idle cores the thin products' OpenMP
teams stall whenever another process holds a core, and the bookkeeping between the products
stays on one thread whatever the setting, so the ratios depend on the thread count.

Example::

    python tools/analysis_tools/benchmark_isda.py                 # all settings, CPU, 1 thread
    python tools/analysis_tools/benchmark_isda.py --threads 2     # the same with 2 threads
    python tools/analysis_tools/benchmark_isda.py --device cuda --repeat 10
    python tools/analysis_tools/benchmark_isda.py --settings full-C10 --no-train-step
"""
import argparse
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

from dynamicnet.models.losses.isda_loss import ISDALoss
from dynamicnet.models.losses.isda_reference import ReferenceISDAEstimator, reference_isda_loss
from dynamicnet.utils.timing import paired_ratio

SETTINGS = {
    'full-C10': ('full', 10, 640, 128),
    'full-C100': ('full', 100, 640, 128),
    'diag-C1000': ('diagonal', 1000, 2048, 256),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ISDA label-row vs per-sample benchmark')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--settings', nargs='+', default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument('--repeat', type=int, default=5,
                        help='rounds of label rows vs per-sample, and of the train steps')
    parser.add_argument('--bound-repeat', type=int, default=30,
                        help='rounds of label rows vs the FLOP bounds\' matmuls')
    parser.add_argument('--lambda0', type=float, default=0.5)
    parser.add_argument('--skip-per-sample', nargs='*', default=[], choices=list(SETTINGS),
                        metavar='SETTING',
                        help='settings whose per-sample formulation is neither checked nor timed '
                        '(at diag-C1000 it peaks at 10 GiB and takes about a minute per call on '
                        'a CPU)')
    parser.add_argument('--no-train-step', action='store_true',
                        help='skip the ResNet-32 train-step comparison')
    parser.add_argument('--train-batch', type=int, default=128)
    parser.add_argument('--train-classes', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    return parser.parse_args()


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_interleaved(fns: Dict[str, Callable[[], None]], device: torch.device,
                     repeat: int) -> Dict[str, List[float]]:
    """Seconds of each function in each of ``repeat`` rounds that call every function once,
    after one warm-up round: contention on a shared machine reaches all of them alike."""
    times = {name: [] for name in fns}
    for round_ in range(repeat + 1):
        for name, fn in fns.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def peak_bytes(fn: Callable[[], None], device: torch.device) -> int:
    """Peak memory allocated while ``fn`` runs, above the memory allocated before it."""
    if device.type == 'cuda':
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        _sync(device)
        return torch.cuda.max_memory_allocated(device) - base
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == '[memory]']
    current = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        current += event.nbytes()
        peak = max(peak, current)
    return peak


def square_gemm(device: torch.device) -> Tuple[Callable[[], None], int]:
    """A square float32 GEMM (``4096³`` on GPUs, ``1024³`` otherwise) and its multiply-adds."""
    size = 4096 if device.type == 'cuda' else 1024
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    return (lambda: torch.mm(a, b)), size**3


def unavoidable_macs(covariance: str, num_classes: int, dim: int, batch: int,
                     distinct: int) -> int:
    """Multiply-adds of the label-row formulation that no implementation can skip."""
    logits = 3 * batch * num_classes * dim            # forward + grads of features and W
    if covariance == 'full':
        estimator = batch * dim * dim + distinct * dim * dim
        # U·C·A² for P_u = D_u Σ_u, U·C·A for the row sums, 2·U·C·A for the backward's two
        # contractions of P (into the rows of W and into the label rows w_u).
        rows = distinct * num_classes * dim * dim + 3 * distinct * num_classes * dim
    else:
        estimator = batch * dim
        rows = 2 * distinct * num_classes * dim + 3 * distinct * num_classes * dim
    return logits + estimator + rows


def bound_gemms(covariance: str, num_classes: int, dim: int, labels: torch.Tensor,
                device: torch.device) -> Tuple[Callable[[], None], int]:
    """The matmuls that :func:`unavoidable_macs` counts, at their shapes, and their multiply-adds.

    Logits: ``(N, A)·(A, C)`` forward, ``(N, C)·(C, A)`` and ``(C, N)·(N, A)`` backward. Full
    covariance, per distinct label ``c`` with ``m_c`` samples: the merge as one accumulation
    ``Σ_c += Yᵀ Y`` with ``Y`` of shape ``(1 + m_c, A)`` (``m_c`` centred rows and the mean
    shift) into a ``(A, A)`` state of its own, then ``(C, A)·(A, A)`` on that state while it is
    in cache; and the backward's contractions of the ``(U, C, A)`` products with the ``(U, C)``
    gradient, ``C × ((1, U)·(U, A))`` and ``U × ((1, C)·(C, A))``. Diagonal:
    ``(U, 2A)·(2A, C)`` forward, ``(C, U)·(U, 2A)`` and ``(U, C)·(C, A)`` backward. Left out
    (not matmuls): the ``U·C·A`` row dot products of the full rows and the ``N·A`` squares of
    the diagonal estimator, under 0.2 % of the count in every setting.
    """
    gen = torch.Generator(device='cpu').manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(device)

    batch = labels.numel()
    counts = torch.bincount(labels.cpu(), minlength=num_classes)
    sizes = counts[counts > 0].tolist()
    feats, weight, grad = rand(batch, dim), rand(num_classes, dim), rand(batch, num_classes)
    logits, grad_feats, grad_weight = rand(batch, num_classes), rand(batch, dim), rand(
        num_classes, dim)
    # Outputs are preallocated (out=): the bound pays for no allocation.
    gemms = [lambda: torch.mm(feats, weight.t(), out=logits),
             lambda: torch.mm(grad, weight, out=grad_feats),
             lambda: torch.mm(grad.t(), feats, out=grad_weight)]
    macs = 3 * batch * num_classes * dim
    if covariance == 'full':
        state = rand(len(sizes), dim, dim)
        merged = [rand(1 + m, dim) for m in sizes]
        projected = rand(len(sizes), num_classes, dim)
        grad_rows = rand(len(sizes), num_classes)
        grad_w, grad_own = rand(num_classes, 1, dim), rand(len(sizes), 1, dim)

        def per_class():
            for u, rows in enumerate(merged):
                state[u].addmm_(rows.t(), rows)
                torch.mm(weight, state[u], out=projected[u])

        gemms += [
            per_class,
            lambda: torch.bmm(grad_rows.t().unsqueeze(1), projected.transpose(0, 1), out=grad_w),
            lambda: torch.bmm(grad_rows.unsqueeze(1), projected, out=grad_own)
        ]
        macs += ((batch + len(sizes)) * dim * dim + len(sizes) * num_classes * dim * dim +
                 2 * len(sizes) * num_classes * dim)
    else:
        left, right = rand(len(sizes), 2 * dim), rand(num_classes, 2 * dim)
        grad_rows, table = rand(len(sizes), num_classes), rand(len(sizes), num_classes)
        grad_right, grad_left = rand(num_classes, 2 * dim), rand(len(sizes), dim)
        gemms += [lambda: torch.mm(left, right.t(), out=table),
                  lambda: torch.mm(grad_rows.t(), left, out=grad_right),
                  lambda: torch.mm(grad_rows, weight, out=grad_left)]
        macs += 5 * len(sizes) * num_classes * dim

    def run():
        for gemm in gemms:
            gemm()

    return run, macs


def _make_problem(covariance: str, num_classes: int, dim: int, batch: int,
                  device: torch.device, seed: int, lambda0: float, per_sample: bool = True):
    gen = torch.Generator(device='cpu').manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=gen)
    weight = (torch.randn(num_classes, dim, generator=gen) * 0.05).to(device)
    bias = torch.zeros(num_classes).to(device)
    ours = ISDALoss(num_classes, dim, lambda0=lambda0, covariance=covariance,
                    schedule='constant', sync='per_rank').to(device)
    ref = (ReferenceISDAEstimator(dim, num_classes, covariance, device=device)
           if per_sample else None)

    def batch_of(step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator(device='cpu').manual_seed(seed * 1000 + step)
        labels = torch.randint(0, num_classes, (batch, ), generator=g)
        feats = (centres[labels] + torch.randn(batch, dim, generator=g)).relu()
        return feats.to(device), labels.to(device)

    # Warm the estimators with the same batches so that the timed updates are steady-state
    # merges (n > 0), not first updates.
    for step in range(3):
        feats, labels = batch_of(step)
        ours.estimator.update(feats, labels)
        if per_sample:
            ref.update_CV(feats, labels)
    return ours, ref, weight, bias, batch_of(3)


def _our_step(loss_module: ISDALoss, weight: torch.Tensor, bias: torch.Tensor,
              feats: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    # Fresh leaves over the same storage (no copy: the steps only read their inputs).
    weight, bias, feats = (t.detach().requires_grad_() for t in (weight, bias, feats))
    logits = F.linear(feats, weight, bias)
    loss = F.cross_entropy(loss_module.augment(feats, logits, labels, weight), labels)
    loss.backward()
    return dict(loss=loss.detach(), weight=weight.grad, bias=bias.grad, feats=feats.grad)


def _ref_step(ref: ReferenceISDAEstimator, weight: torch.Tensor, bias: torch.Tensor,
              feats: torch.Tensor, labels: torch.Tensor, ratio: float) -> Dict[str, torch.Tensor]:
    # Fresh leaves over the same storage (no copy: the steps only read their inputs).
    weight, bias, feats = (t.detach().requires_grad_() for t in (weight, bias, feats))
    loss = reference_isda_loss(ref, weight, bias, feats, labels, ratio)
    loss.backward()
    return dict(loss=loss.detach(), weight=weight.grad, bias=bias.grad, feats=feats.grad)


def bench_setting(name: str, args: argparse.Namespace, device: torch.device) -> List[str]:
    covariance, num_classes, dim, batch = SETTINGS[name]
    per_sample = name not in args.skip_per_sample
    ours, ref, weight, bias, (feats, labels) = _make_problem(
        covariance, num_classes, dim, batch, device, args.seed, args.lambda0, per_sample)
    if per_sample:
        # Equality on the same tensors and the same estimator state.
        got = _our_step(ours, weight, bias, feats, labels)
        expected = _ref_step(ref, weight, bias, feats, labels, args.lambda0)
        for key in got:
            torch.testing.assert_close(got[key], expected[key], rtol=1e-4, atol=1e-5,
                                       msg=lambda m, k=key: f'{name}: {k} differs: {m}')
        torch.testing.assert_close(ours.estimator.cov, ref.CoVariance, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ours.estimator.mean, ref.Ave, rtol=1e-4, atol=1e-5)
        del got, expected

    def run_ours():
        _our_step(ours, weight, bias, feats, labels)

    def run_ref():
        _ref_step(ref, weight, bias, feats, labels, args.lambda0)

    square, square_macs = square_gemm(device)
    gemms, gemm_macs = bound_gemms(covariance, num_classes, dim, labels, device)
    rounds = time_interleaved(dict(ours=run_ours, square=square, gemms=gemms), device,
                              args.bound_repeat)
    times = {key: statistics.median(values) for key, values in rounds.items()}
    m_ours = peak_bytes(run_ours, device)
    distinct = int(torch.unique(labels).numel())
    macs = unavoidable_macs(covariance, num_classes, dim, batch, distinct)
    t_ours = times['ours']
    lines = [
        f'{name:<11} {covariance:<8} C={num_classes:<5} A={dim:<5} N={batch:<4} U={distinct:<4} '
        + ('equal outputs: yes' if per_sample else 'per-sample formulation skipped'),
        f'    time     label-rows {t_ours * 1e3:9.2f} ms',
        f'    peak mem label-rows {m_ours / 2**20:9.2f} MiB',
    ]
    if per_sample:
        pairs = time_interleaved(dict(ours=run_ours, ref=run_ref), device, args.repeat)
        m_ref = peak_bytes(run_ref, device)
        lines[1] += (f'   per-sample {statistics.median(pairs["ref"]) * 1e3:9.2f} ms   '
                     f'speed-up {paired_ratio(pairs["ref"], pairs["ours"]):6.2f}x')
        lines[2] += (f'  per-sample {m_ref / 2**20:9.2f} MiB  '
                     f'ratio    {m_ref / max(m_ours, 1):6.2f}x')
    for what, key, key_macs in (('square GEMM', 'square', square_macs),
                                ('its GEMMs', 'gemms', gemm_macs)):
        rate = key_macs / times[key]
        # label rows / bound = t_ours / (macs / rate), taken round by round.
        ratio = paired_ratio(rounds['ours'], rounds[key]) * key_macs / macs
        lines.append(f'    FLOP bound {macs / 1e6:9.1f} M MACs at {rate / 1e9:6.1f} G MAC/s '
                     f'({what:<11}) -> {macs / rate * 1e3:8.3f} ms; label-rows / bound = '
                     f'{ratio:5.2f}x')
    return lines


def bench_train_step(args: argparse.Namespace, device: torch.device) -> List[str]:
    """ResNet-32 (CIFAR, 32×32, batch ``--train-batch``) SGD step: ISDA head vs CE head."""
    from mmpretrain.models import ImageClassifier
    from mmpretrain.structures import DataSample

    from dynamicnet.models.backbones import CIFARResNet
    from dynamicnet.models.heads import ISDALinearClsHead
    from mmpretrain.models.heads import LinearClsHead
    from mmpretrain.models.necks import GlobalAveragePooling

    num_classes = args.train_classes
    gen = torch.Generator().manual_seed(args.seed)
    inputs = torch.randn(args.train_batch, 3, 32, 32, generator=gen).to(device)
    labels = torch.randint(0, num_classes, (args.train_batch, ), generator=gen)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    for s in samples:
        s.gt_label = s.gt_label.to(device)
    steps = {}
    for name in ('ce', 'isda'):
        torch.manual_seed(args.seed)
        head = (ISDALinearClsHead(num_classes, 64, isda_cfg=dict(
            lambda0=args.lambda0, covariance='full', schedule='constant'))
                if name == 'isda' else LinearClsHead(num_classes, 64))
        model = ImageClassifier(backbone=CIFARResNet(depth=32), neck=GlobalAveragePooling(),
                                head=head).to(device).train()
        optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                weight_decay=1e-4)

        def step(model=model, optim=optim):
            optim.zero_grad(set_to_none=True)
            loss = model.loss(inputs, samples)['loss']
            loss.backward()
            optim.step()

        steps[name] = step
    rounds = time_interleaved(steps, device, args.repeat)
    results = {key: statistics.median(values) for key, values in rounds.items()}
    ratio = paired_ratio(rounds['isda'], rounds['ce'])
    return [
        f'ResNet-32 train step (batch {args.train_batch}, C={num_classes}, full covariance A=64): '
        f"CE {results['ce'] * 1e3:.1f} ms, ISDA {results['isda'] * 1e3:.1f} ms, "
        f'overhead {ratio:.3f}x'
    ]


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    print(f'device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}; '
          f'medians of interleaved rounds: {args.repeat} (label rows vs per-sample, train '
          f'steps), {args.bound_repeat} (label rows vs the bounds)')
    for name in args.settings:
        for line in bench_setting(name, args, device):
            print(line, flush=True)
    if not args.no_train_step:
        for line in bench_train_step(args, device):
            print(line, flush=True)


if __name__ == '__main__':
    main()
