# Copyright (c) dynamicnet contributors. All rights reserved.
"""Validation/test loops that first run a **fitting set** for the early-exit thresholds.

:class:`dynamicnet.evaluation.EarlyExitMetric` fits the budgeted-batch thresholds on predictions
for a separate set (``../shared/specs/dynamic-inference.md`` §4.2: a held-in/held-out part of the
training set). A metric cannot run the model, so these loops do: they push ``fit_dataloader``
through ``model.val_step`` into every metric that has ``start_fitting``/``finish_fitting``, then
run the ordinary loop on the val/test dataloader. Usage::

    test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=dict(...))
    test_evaluator = dict(type='dynamicnet.EarlyExitMetric', fit_set='train[-1000:]')
"""
from typing import Dict, Union

import torch
from mmengine.runner import TestLoop, ValLoop
from mmengine.structures import BaseDataElement
from torch.utils.data import DataLoader

from dynamicnet.registry import LOOPS

__all__ = ['EarlyExitValLoop', 'EarlyExitTestLoop', 'run_fitting_pass']


@torch.no_grad()
def run_fitting_pass(runner, evaluator, dataloader: DataLoader) -> None:
    """Feed ``dataloader``'s predictions to the metrics of ``evaluator`` that fit thresholds."""
    metrics = [m for m in evaluator.metrics if hasattr(m, 'start_fitting')]
    if not metrics:
        return
    runner.model.eval()
    for metric in metrics:
        metric.start_fitting()
    for data_batch in dataloader:
        outputs = runner.model.val_step(data_batch)
        # only the fitting metrics see these samples (not e.g. an Accuracy next to them)
        samples = [s.to_dict() if isinstance(s, BaseDataElement) else s for s in outputs]
        for metric in metrics:
            metric.process(data_batch, samples)
    for metric in metrics:
        metric.finish_fitting(len(dataloader.dataset))


class _FittingMixin:
    """Builds ``fit_dataloader`` and runs it before the evaluation pass."""

    def _init_fitting(self, runner, fit_dataloader: Union[DataLoader, Dict, None]) -> None:
        if isinstance(fit_dataloader, dict):
            diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
            fit_dataloader = runner.build_dataloader(
                fit_dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        self.fit_dataloader = fit_dataloader

    def run(self) -> dict:
        if self.fit_dataloader is not None:
            run_fitting_pass(self.runner, self.evaluator, self.fit_dataloader)
        return super().run()


@LOOPS.register_module()
class EarlyExitValLoop(_FittingMixin, ValLoop):
    """:class:`mmengine.runner.ValLoop` with a threshold-fitting pass over ``fit_dataloader``."""

    def __init__(self, runner, dataloader, evaluator, fit_dataloader=None, fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        self._init_fitting(runner, fit_dataloader)


@LOOPS.register_module()
class EarlyExitTestLoop(_FittingMixin, TestLoop):
    """:class:`mmengine.runner.TestLoop` with a threshold-fitting pass over ``fit_dataloader``."""

    def __init__(self, runner, dataloader, evaluator, fit_dataloader=None, fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        self._init_fitting(runner, fit_dataloader)
