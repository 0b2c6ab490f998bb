# Copyright (c) dynamicnet contributors. All rights reserved.
"""Store a multi-exit model's per-exit cumulative MACs in every checkpoint's ``meta``.

Users of the official early-exit code bases asked how to fill the per-exit cost list for their
own models (GFNet issue #8, MSDNet issues #3/#10; ``../shared/specs/dynamic-inference.md`` §5.4,
§9). With this hook each checkpoint carries ``meta['exit_costs'] = dict(input_shape=[C, H, W],
macs=[F_1, ..., F_K], rules=<count_macs rule set>)``,
computed from the model by :meth:`MultiExitClassifier.exit_costs`.
"""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from dynamicnet.registry import HOOKS

__all__ = ['ExitCostsHook']


@HOOKS.register_module()
class ExitCostsHook(Hook):
    """Write ``meta['exit_costs']`` into saved checkpoints.

    Args:
        input_shape: ``(C, H, W)`` to count at; defaults to the model's
            ``test_cfg.cost_input_shape`` (nothing is written when neither is set).
    """

    priority = 'LOW'

    def __init__(self, input_shape: Optional[Sequence[int]] = None):
        self.input_shape = None if input_shape is None else tuple(input_shape)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'exit_costs'):
            return
        shape = self.input_shape or model.test_cfg.get('cost_input_shape')
        if shape is None:
            return
        checkpoint.setdefault('meta', {})['exit_costs'] = dict(
            input_shape=[int(s) for s in shape],
            macs=model.exit_costs(tuple(shape)),
            rules=model.test_cfg.get('cost_rules', 'macs'))
