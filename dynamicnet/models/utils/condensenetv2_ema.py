# Copyright (c) dynamicnet contributors. All rights reserved.
"""EMA for CondenseNetV2 that averages weights and BN statistics but copies the masks
(spec ``../shared/specs/condensenetv2.md`` §5 and pitfall 6)."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage

from dynamicnet.registry import MODELS

__all__ = ['CondenseNetV2EMA', 'CONDENSATION_BUFFERS']

#: Buffer names that hold condensation state or structure: copied, never averaged.
CONDENSATION_BUFFERS = ('_mask', '_count', '_stage', 'index')


@MODELS.register_module()
class CondenseNetV2EMA(ExponentialMovingAverage):
    """:class:`mmengine.model.ExponentialMovingAverage` that keeps condensation masks binary.

    The official training patches timm's ``ModelEma`` so that the ``_mask`` / ``_count`` /
    ``_stage`` buffers are copied verbatim while parameters and BN statistics are averaged. With
    ``update_buffers=True`` mmengine would average every floating buffer, masks included, and
    leave non-binary masks; this class copies every buffer named in :data:`CONDENSATION_BUFFERS`
    from the source model after each update. With ``update_buffers=False`` (mmengine default)
    all buffers are copied anyway.

    Args:
        model: The source model.
        momentum: EMA momentum, ``1 - decay`` (official decay 0.9998 -> 2e-4).
        interval: Update interval in iterations.
        device: Device of the averaged copy.
        update_buffers: Average BN statistics too (the official EMA does).
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.0002,
                 interval: int = 1,
                 device: Optional[torch.device] = None,
                 update_buffers: bool = False) -> None:
        super().__init__(model, momentum, interval, device, update_buffers)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        super().update_parameters(model)
        source = dict(model.named_buffers())
        for name, buffer in self.module.named_buffers():
            if name.rsplit('.', 1)[-1] in CONDENSATION_BUFFERS:
                buffer.copy_(source[name].to(buffer.device))
