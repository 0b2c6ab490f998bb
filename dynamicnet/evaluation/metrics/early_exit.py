# Copyright (c) dynamicnet contributors. All rights reserved.
"""Anytime and budgeted-batch evaluation of multi-exit models, written once for all of them.

Protocols of ``../shared/specs/dynamic-inference.md`` §4:

* **Anytime prediction** (§4.1): top-1 accuracy of every exit ``k`` against its cumulative cost
  ``F_k``.
* **Budgeted batch classification** (§4.2): for ``q = p / q_denominator`` (``p`` in ``p_range``,
  default 1..39 as MSDNet/GFNet; ``(1, 60)`` for DVT) exit proportions ``pi_k = q^k / sum_j q^j``
  are turned into per-exit confidence thresholds by the official greedy finder on a **fitting
  set**, then applied to the test set: a sample leaves at the first exit with ``max softmax >=
  eta_k`` (``eta_K = -1e8``); accuracy and average MACs ``sum_k (n_k / N) F_k`` give one curve
  point.

Both protocols report top-1 accuracy; with ``mean_ap=True`` they also report mAP (ActivityNet,
FCVID: AdaFocus+), computed from the softmax scores of the exit each sample leaves at
(:func:`mean_average_precision`).

The proportions and ``floor(N * pi_k)`` are computed in float32 exactly as the official
``adaptive_inference.py`` (MSDNet; copied by GFNet and DVT) does, so fitted thresholds coincide
with the official ones. The finder is vectorised per exit; ``tests/test_evaluation/
test_early_exit.py`` checks it against a transcription of the official loop.

Fitting set. The metric fits on the predictions collected while ``fitting`` is on (see
:class:`dynamicnet.engine.loops.EarlyExitTestLoop`, which runs ``fit_dataloader`` through the
model first), or on a file written earlier with ``save_fit_file`` (``fit_file``). The dynamicnet
default is a held-in/held-out split of the **training** set processed with the test pipeline;
GFNet/DVT fit on train-augmented training images (``fit_pipeline='train'`` in their configs).
Without any fitting set the thresholds are fitted on the test predictions themselves, and the
result says so (``fit_set='test'``): useful for sanity checks, not for reporting.

The model must put ``exit_scores`` ``(K, C)`` and ``exit_costs`` ``(K,)`` (cumulative MACs) into
every data sample (:class:`dynamicnet.models.classifiers.MultiExitClassifier` does); costs come
from the model, never from a hand-written list.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import collect_results, is_main_process
from mmengine.evaluator import BaseMetric
from mmpretrain.evaluation import AveragePrecision
from torch import Tensor

from dynamicnet.registry import METRICS

__all__ = [
    'exit_proportions', 'fit_thresholds', 'exits_taken', 'evaluate_thresholds',
    'mean_average_precision', 'budgeted_curve', 'EarlyExitMetric'
]

UNREACHABLE = 1e8  # the official "nobody exits here" threshold; -UNREACHABLE for the last exit


def exit_proportions(q: float, num_exits: int) -> Tensor:
    """``pi_k = q^k / sum_j q^j`` for ``k = 1..K``, in float32 as the official code.

    Returns:
        float32 tensor ``(K,)``.
    """
    q32 = torch.tensor([q], dtype=torch.float32)
    probs = torch.exp(torch.log(q32) * torch.arange(1, num_exits + 1, dtype=torch.float32))
    return probs / probs.sum()


def fit_thresholds(conf: Tensor, proportions: Tensor) -> Tensor:
    """Greedy threshold finder of ``dynamic-inference.md`` §4.2.

    Args:
        conf: Max-softmax confidences on the fitting set, ``(K, N)``.
        proportions: Exit proportions ``(K,)`` (float32 as from :func:`exit_proportions`).

    Returns:
        Thresholds ``(K,)`` (dtype of ``conf``): ``eta_k`` for ``k < K`` (``1e8`` where nobody
        should exit), ``-1e8`` at ``K``.
    """
    num_exits, num = conf.shape
    thresholds = torch.full((num_exits, ), UNREACHABLE, dtype=conf.dtype)
    thresholds[-1] = -UNREACHABLE
    filtered = torch.zeros(num, dtype=torch.bool)
    for k in range(num_exits - 1):
        # float32 product as in the official code (``n_sample * p[k]`` with a float32 tensor)
        n_k = math.floor(float(torch.tensor(num, dtype=torch.float32) * proportions[k]))
        remaining = conf[k][~filtered]
        if 0 < n_k <= remaining.numel():
            thresholds[k] = remaining.sort(descending=True).values[n_k - 1]
        filtered |= conf[k] >= thresholds[k]
    return thresholds


def exits_taken(conf: Tensor, thresholds: Tensor) -> Tensor:
    """0-based exit ``(N,)`` long of every sample: the first ``k`` with ``conf[k] >= eta_k``; the
    last exit takes every remaining sample whatever its threshold."""
    passes = conf >= thresholds.to(conf.dtype)[:, None]
    passes[-1] = True
    return passes.int().argmax(dim=0)  # first True


def mean_average_precision(scores: Tensor, labels: Tensor) -> float:
    """mAP in % of single-label predictions, the official AdaFocus ``cal_map``.

    Per class, samples are ranked by that class' score and the AP is the mean of the precision at
    the rank of every positive (non-interpolated); classes without positives count 0; the mean
    over **all** classes, x 100 (mmpretrain ``AveragePrecision``, the metric of the ActivityNet
    configs, so the last exit's value equals theirs).

    Args:
        scores: ``(N, C)`` class scores (softmax).
        labels: ``(N,)`` class indices (the first label of each video, ``adafocus.md`` pitfall 7).
    """
    target = F.one_hot(labels.long(), scores.size(1))
    return float(AveragePrecision.calculate(scores, target, average='macro'))


def evaluate_thresholds(conf: Tensor, correct: Tensor, thresholds: Tensor,
                        costs: Sequence[float]) -> Tuple[float, float, Tensor]:
    """Apply thresholds: each sample takes the first exit with ``conf >= eta``.

    Args:
        conf: ``(K, N)`` max-softmax confidences.
        correct: ``(K, N)`` bool, exit ``k`` predicts sample ``i`` correctly.
        thresholds: ``(K,)``; the last exit takes every remaining sample whatever its value.
        costs: Cumulative MACs ``F_1..F_K``.

    Returns:
        ``(top-1 accuracy in %, average MACs per sample, exit counts (K,) long)``.
    """
    num_exits, num = conf.shape
    taken = exits_taken(conf, thresholds)
    counts = torch.bincount(taken, minlength=num_exits)
    acc = correct[taken, torch.arange(num)].double().mean().item() * 100.0
    avg_cost = float(sum(float(c) / num * float(f) for c, f in zip(counts.tolist(), costs)))
    return acc, avg_cost, counts


def budgeted_curve(fit_conf: Tensor,
                   test_conf: Tensor,
                   test_correct: Tensor,
                   costs: Sequence[float],
                   p_range: Tuple[int, int] = (1, 40),
                   q_denominator: float = 20.0,
                   test_scores: Optional[Tensor] = None,
                   test_labels: Optional[Tensor] = None) -> Dict[str, list]:
    """The budgeted-batch curve: one point per ``p`` in ``range(*p_range)``.

    Args:
        test_scores: ``(K, N, C)`` softmax of every exit; with ``test_labels`` ``(N,)`` the curve
            also gets the mAP of the scores of the exit each sample leaves at.

    Returns:
        Dict of lists: ``q``, ``top1`` (%), ``macs`` (average per test sample), ``thresholds``
        (K per point), ``exit_fractions`` (realised on the test set, K per point) and, with
        ``test_scores``, ``mAP`` (%).
    """
    curve: Dict[str, list] = dict(q=[], top1=[], macs=[], thresholds=[], exit_fractions=[])
    if test_scores is not None:
        curve['mAP'] = []
    num_test = test_conf.size(1)
    for p in range(*p_range):
        q = p / q_denominator
        thresholds = fit_thresholds(fit_conf, exit_proportions(q, fit_conf.size(0)))
        acc, cost, counts = evaluate_thresholds(test_conf, test_correct, thresholds, costs)
        curve['q'].append(q)
        curve['top1'].append(acc)
        curve['macs'].append(cost)
        curve['thresholds'].append(thresholds.tolist())
        curve['exit_fractions'].append((counts.double() / num_test).tolist())
        if test_scores is not None:
            taken = exits_taken(test_conf, thresholds)
            curve['mAP'].append(
                mean_average_precision(test_scores[taken, torch.arange(num_test)], test_labels))
    return curve


@METRICS.register_module()
class EarlyExitMetric(BaseMetric):
    """Anytime accuracy (and mAP) per exit and the budgeted-batch accuracy-vs-MACs curve.

    Args:
        p_range: ``range(*p_range)`` of ``p`` with ``q = p / q_denominator``. Default ``(1, 40)``
            (MSDNet, GFNet); DVT uses ``(1, 60)``.
        q_denominator: 20 in every official code base.
        fit_file: An ``.npz`` written through ``save_fit_file`` to fit the thresholds on (used when
            no fitting pass ran in this evaluation).
        save_fit_file: Where to save (``.npz``) the fitting-set confidences and predictions after a
            fitting pass.
        fit_set: Free-text description of the fitting set, recorded in the results (e.g.
            ``'train[-5000:], test pipeline'``).
        budget: Compute the budgeted curve; ``False`` reports the anytime accuracies only (cheap
            per-epoch validation).
        mean_ap: Also report mAP (:func:`mean_average_precision`; ActivityNet / FCVID) for every
            exit and along the budgeted curve. Keeps the ``(K, C)`` scores of every test sample
            (``K * C`` floats each), so it is off by default.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric name prefix; default ``'early_exit'``.

    Results (keys after the prefix): ``exit{k}/top1`` and ``exit{k}/macs`` (1-based ``k``),
    ``budget/top1``, ``budget/macs``, ``budget/q``, ``budget/thresholds``,
    ``budget/exit_fractions`` (lists, one entry per ``q``), ``exit_costs``, ``fit_set`` and
    ``fit_size``; with ``mean_ap`` also ``exit{k}/mAP`` and ``budget/mAP``.
    """

    default_prefix = 'early_exit'

    def __init__(self,
                 p_range: Tuple[int, int] = (1, 40),
                 q_denominator: float = 20.0,
                 fit_file: Optional[str] = None,
                 save_fit_file: Optional[str] = None,
                 fit_set: str = 'fit_dataloader',
                 budget: bool = True,
                 mean_ap: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.p_range = tuple(p_range)
        self.q_denominator = float(q_denominator)
        self.fit_file = fit_file
        self.save_fit_file = save_fit_file
        self.fit_set = fit_set
        self.budget = budget
        self.mean_ap = mean_ap
        self.fitting = False
        self.fit_results: Optional[List[dict]] = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            scores = sample['exit_scores']
            conf, pred = scores.max(dim=1)
            result = dict(
                conf=conf.float().cpu(),
                pred=pred.cpu(),
                label=int(sample['gt_label'].reshape(-1)[0]),
                costs=sample['exit_costs'].cpu())
            if self.mean_ap and not self.fitting:  # thresholds are fitted on conf alone
                result['scores'] = scores.float().cpu()
            self.results.append(result)

    # ---- fitting pass -------------------------------------------------------------------------
    def start_fitting(self) -> None:
        """Route the next :meth:`process` calls to the fitting set."""
        self.results.clear()
        self.fitting = True

    def finish_fitting(self, size: int) -> None:
        """Collect the fitting-set results from all ranks and keep them for the next evaluate."""
        results = collect_results(self.results, size, self.collect_device)
        self.results.clear()
        self.fitting = False
        if is_main_process():
            self.fit_results = results
            if self.save_fit_file:
                with open(self.save_fit_file, 'wb') as f:
                    np.savez(f, **self._pack(results))

    @staticmethod
    def _pack(results: List[dict]) -> Dict[str, np.ndarray]:
        return dict(
            conf=torch.stack([r['conf'] for r in results], 1).numpy(),
            pred=torch.stack([r['pred'] for r in results], 1).numpy(),
            label=np.array([r['label'] for r in results]),
            costs=results[0]['costs'].numpy())

    def _fit_arrays(self, test: Dict[str, np.ndarray]) -> Tuple[Tensor, str, int]:
        if self.fit_results is not None:
            fit = self._pack(self.fit_results)
            name = self.fit_set
        elif self.fit_file is not None:
            with np.load(self.fit_file, allow_pickle=False) as stored:
                fit = dict(stored)
            name = f'{self.fit_set} (from {self.fit_file})'
        else:
            fit, name = test, 'test'
        conf = torch.from_numpy(fit['conf'])
        return conf, name, conf.size(1)

    def compute_metrics(self, results: List[dict]) -> dict:
        test = self._pack(results)
        conf = torch.from_numpy(test['conf'])
        correct = torch.from_numpy(test['pred'] == test['label'][None])
        costs = test['costs'].tolist()
        metrics: dict = {}
        scores = labels = None
        if self.mean_ap:
            scores = torch.stack([r['scores'] for r in results], 1)  # (K, N, C)
            labels = torch.from_numpy(test['label'])
        for k in range(conf.size(0)):
            metrics[f'exit{k + 1}/top1'] = correct[k].double().mean().item() * 100.0
            if scores is not None:
                metrics[f'exit{k + 1}/mAP'] = mean_average_precision(scores[k], labels)
            metrics[f'exit{k + 1}/macs'] = costs[k]
        metrics['exit_costs'] = costs
        if not self.budget:
            return metrics
        fit_conf, fit_name, fit_size = self._fit_arrays(test)
        curve = budgeted_curve(fit_conf, conf, correct, costs, self.p_range, self.q_denominator,
                               scores, labels)
        for key, value in curve.items():
            metrics[f'budget/{key}'] = value
        metrics['fit_set'] = fit_name
        metrics['fit_size'] = fit_size
        self.fit_results = None
        return metrics
