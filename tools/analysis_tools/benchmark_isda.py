# Copyright (c) dynamicnet contributors. All rights reserved.
"""Benchmark dynamicnet's ISDA (one row of ``S`` per distinct label) against the official
per-sample formulation on the same tensors, plus a ResNet-32 CIFAR train step with and without ISDA.

For each setting it first checks that both formulations give the same loss, gradients (features,
classifier weight and bias) and estimator state, then prints, measured in the same run:

* time of one loss forward + backward (estimator update included; median of ``--repeat``),
* peak memory allocated during that call above what was allocated before it (CUDA: the
  allocator's peak; CPU: the peak of the running sum of the allocations and frees that
  ``torch.profiler(profile_memory=True)`` records),
* the FLOP bound: the multiply-adds the label-row formulation cannot avoid (logits forward and
  backward, the batch scatter of the estimator, the ``U`` rows of ``S`` and their backward) at the
  machine's measured matmul rate (a square float32 GEMM timed here).

Example::

    python tools/analysis_tools/benchmark_isda.py                    # all settings, CPU
    python tools/analysis_tools/benchmark_isda.py --device cuda --repeat 10
"""
import argparse
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

from dynamicnet.models.losses.isda_loss import ISDALoss
from dynamicnet.models.losses.isda_reference import ReferenceISDAEstimator, reference_isda_loss

SETTINGS = {
    'full-C10': ('full', 10, 640, 128),
    'full-C100': ('full', 100, 640, 128),
    'diag-C1000': ('diagonal', 1000, 2048, 256),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ISDA label-row vs per-sample benchmark')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--settings', nargs='+', default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument('--repeat', type=int, default=5, help='timed calls per measurement')
    parser.add_argument('--lambda0', type=float, default=0.5)
    parser.add_argument('--no-train-step', action='store_true',
                        help='skip the ResNet-32 train-step comparison')
    parser.add_argument('--train-batch', type=int, default=128)
    parser.add_argument('--train-classes', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], None], device: torch.device, repeat: int) -> float:
    """Median seconds of ``fn`` after one warm-up call."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def matmul_rate(device: torch.device, size: int) -> float:
    """Multiply-adds per second of a square float32 GEMM (the best of 5 calls: the bound is what
    the machine can reach, and shared CPUs only ever slow a call down)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(5):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return size**3 / best


def unavoidable_macs(covariance: str, num_classes: int, dim: int, batch: int,
                     distinct: int) -> int:
    """Multiply-adds of the label-row formulation that no implementation can skip."""
    logits = 3 * batch * num_classes * dim            # forward + grads of features and W
    if covariance == 'full':
        estimator = batch * dim * dim + distinct * dim * dim
        rows = distinct * num_classes * dim * dim + distinct * num_classes * dim
    else:
        estimator = batch * dim
        rows = 2 * distinct * num_classes * dim + 3 * distinct * num_classes * dim
    return logits + estimator + rows


def _make_problem(covariance: str, num_classes: int, dim: int, batch: int,
                  device: torch.device, seed: int, lambda0: float):
    gen = torch.Generator(device='cpu').manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=gen)
    weight = (torch.randn(num_classes, dim, generator=gen) * 0.05).to(device)
    bias = torch.zeros(num_classes).to(device)
    ours = ISDALoss(num_classes, dim, lambda0=lambda0, covariance=covariance,
                    schedule='constant', sync='per_rank').to(device)
    ref = ReferenceISDAEstimator(dim, num_classes, covariance, device=device)

    def batch_of(step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator(device='cpu').manual_seed(seed * 1000 + step)
        labels = torch.randint(0, num_classes, (batch, ), generator=g)
        feats = (centres[labels] + torch.randn(batch, dim, generator=g)).relu()
        return feats.to(device), labels.to(device)

    # Warm both estimators with the same batches so that the timed updates are steady-state
    # merges (n > 0), not first updates.
    for step in range(3):
        feats, labels = batch_of(step)
        ours.estimator.update(feats, labels)
        ref.update_CV(feats, labels)
    return ours, ref, weight, bias, batch_of(3)


def _our_step(loss_module: ISDALoss, weight: torch.Tensor, bias: torch.Tensor,
              feats: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    weight = weight.clone().requires_grad_()
    bias = bias.clone().requires_grad_()
    feats = feats.clone().requires_grad_()
    logits = F.linear(feats, weight, bias)
    loss = F.cross_entropy(loss_module.augment(feats, logits, labels, weight), labels)
    loss.backward()
    return dict(loss=loss.detach(), weight=weight.grad, bias=bias.grad, feats=feats.grad)


def _ref_step(ref: ReferenceISDAEstimator, weight: torch.Tensor, bias: torch.Tensor,
              feats: torch.Tensor, labels: torch.Tensor, ratio: float) -> Dict[str, torch.Tensor]:
    weight = weight.clone().requires_grad_()
    bias = bias.clone().requires_grad_()
    feats = feats.clone().requires_grad_()
    loss = reference_isda_loss(ref, weight, bias, feats, labels, ratio)
    loss.backward()
    return dict(loss=loss.detach(), weight=weight.grad, bias=bias.grad, feats=feats.grad)


def bench_setting(name: str, args: argparse.Namespace, device: torch.device) -> List[str]:
    covariance, num_classes, dim, batch = SETTINGS[name]
    ours, ref, weight, bias, (feats, labels) = _make_problem(
        covariance, num_classes, dim, batch, device, args.seed, args.lambda0)
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

    rate = matmul_rate(device, 4096 if device.type == 'cuda' else 1024)
    t_ours = time_call(run_ours, device, args.repeat)
    t_ref = time_call(run_ref, device, args.repeat)
    m_ours = peak_bytes(run_ours, device)
    m_ref = peak_bytes(run_ref, device)
    distinct = int(torch.unique(labels).numel())
    macs = unavoidable_macs(covariance, num_classes, dim, batch, distinct)
    bound = macs / rate
    return [
        f'{name:<11} {covariance:<8} C={num_classes:<5} A={dim:<5} N={batch:<4} U={distinct:<4} '
        f'equal outputs: yes',
        f'    time     label-rows {t_ours * 1e3:9.2f} ms   per-sample {t_ref * 1e3:9.2f} ms   '
        f'speed-up {t_ref / t_ours:6.2f}x',
        f'    peak mem label-rows {m_ours / 2**20:9.2f} MiB  per-sample {m_ref / 2**20:9.2f} MiB  '
        f'ratio    {m_ref / max(m_ours, 1):6.2f}x',
        f'    FLOP bound {macs / 1e6:9.1f} M MACs at {rate / 1e9:.1f} G MAC/s -> '
        f'{bound * 1e3:8.3f} ms; label-rows / bound = {t_ours / bound:5.2f}x',
    ]


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
    results = {}
    for name in ('ce', 'isda'):
        torch.manual_seed(args.seed)
        head = (ISDALinearClsHead(num_classes, 64, isda_cfg=dict(
            lambda0=args.lambda0, covariance='full', schedule='constant'))
                if name == 'isda' else LinearClsHead(num_classes, 64))
        model = ImageClassifier(backbone=CIFARResNet(depth=32), neck=GlobalAveragePooling(),
                                head=head).to(device).train()
        optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                weight_decay=1e-4)

        def step():
            optim.zero_grad(set_to_none=True)
            loss = model.loss(inputs, samples)['loss']
            loss.backward()
            optim.step()

        results[name] = time_call(step, device, args.repeat)
    ratio = results['isda'] / results['ce']
    return [
        f'ResNet-32 train step (batch {args.train_batch}, C={num_classes}, full covariance A=64): '
        f"CE {results['ce'] * 1e3:.1f} ms, ISDA {results['isda'] * 1e3:.1f} ms, "
        f'overhead {ratio:.3f}x'
    ]


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    print(f'device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}; '
          'the matmul rate is measured before each setting')
    for name in args.settings:
        for line in bench_setting(name, args, device):
            print(line, flush=True)
    if not args.no_train_step:
        for line in bench_train_step(args, device):
            print(line, flush=True)


if __name__ == '__main__':
    main()
