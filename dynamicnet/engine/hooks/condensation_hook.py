# Copyright (c) dynamicnet contributors. All rights reserved.
"""Drives CondenseNetV2's learned condensation from the runner's training progress
(spec ``../shared/specs/condensenetv2.md`` §3)."""
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from dynamicnet.registry import HOOKS

__all__ = ['CondensationHook']

DATA_BATCH = Optional[Sequence[dict]]


@HOOKS.register_module()
class CondensationHook(Hook):
    """Set ``p = iter / max_iters`` on every condensing module before each training iteration.

    ``p`` equals the official ``(epoch * iters_per_epoch + it) / (epochs * iters_per_epoch)`` for
    epoch- and iteration-based loops. Every module of the trained model that has a
    ``set_progress(p)`` method and no ancestor with one (e.g. a
    :class:`dynamicnet.models.backbones.CondenseNetV2`) is updated; the EMA copy of
    ``EMAHook`` is not touched and receives the masks through its buffer synchronisation. Events
    are applied before the forward of the iteration, exactly when the official code applies them;
    a schedule that jumps over stages (resume, very short runs) drops every missed chunk.

    At the end of training the hook warns if the model is not fully condensed (training must reach
    ``p >= 0.5`` for the conversion to the deployable network).
    """

    priority = 'ABOVE_NORMAL'

    def _targets(self, runner) -> List[nn.Module]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        found: List[nn.Module] = []
        prefixes: List[str] = []
        for name, module in model.named_modules():
            if any(name.startswith(p) for p in prefixes):
                continue
            if callable(getattr(module, 'set_progress', None)):
                found.append(module)
                prefixes.append(name + '.' if name else '')
        if not found:
            raise RuntimeError('CondensationHook found no module with set_progress() in the model')
        return found

    def _apply(self, runner) -> None:
        progress = min(runner.iter / max(runner.max_iters, 1), 1.0)
        for module in self._targets(runner):
            events = module.set_progress(progress)
            if events:
                runner.logger.info(f'condensation: {events} event(s) at iter {runner.iter} '
                                   f'(progress {progress:.4f}) in {type(module).__name__}')

    def before_train(self, runner) -> None:
        # A resumed run catches up with the events of the skipped iterations.
        self._apply(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch: DATA_BATCH = None) -> None:
        self._apply(runner)

    def after_train(self, runner) -> None:
        for module in self._targets(runner):
            check = getattr(module, 'is_fully_condensed', None)
            if check is not None and not check():
                runner.logger.warning(
                    f'{type(module).__name__} is not fully condensed after training (progress '
                    f'{runner.iter / max(runner.max_iters, 1):.4f} < 0.5?); the conversion '
                    f'tool will refuse it')
