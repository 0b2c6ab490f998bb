# Copyright (c) dynamicnet contributors. All rights reserved.
"""Classifier of CondenseNetV2 (CVPR 2021; spec ``../shared/specs/condensenetv2.md`` §4)."""
from typing import Dict, Optional, Sequence, Tuple

from mmpretrain.models.heads import StackedLinearClsHead
from torch import Tensor

from dynamicnet.models.utils.condensenetv2_layers import CondenseSELayer
from dynamicnet.registry import MODELS

__all__ = ['CondenseNetV2ClsHead']


@MODELS.register_module()
class CondenseNetV2ClsHead(StackedLinearClsHead):
    """SE on the pooled feature, then FC -> h-swish -> FC (the official classifier).

    Used after ``GlobalAveragePooling`` (the official AvgPool(7) at 224 input): pooled
    (B, C) -> SE(C, reduction) -> Linear(C -> mid_channels[0]) + bias -> h-swish -> Linear(->
    num_classes) + bias. Official ``fc_channel``: 828 (A), 1024 (B, C).

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the pooled feature (800 A, 1176 B, 2064 C).
        mid_channels: Hidden FC widths (official: one layer of ``fc_channel``).
        se_reduction: Reduction of the SE before the FC layers (official 16); 0 disables it.
        act_cfg: Hidden activation (official h-swish).
        **kwargs: Passed to :class:`mmpretrain.models.heads.StackedLinearClsHead` (``loss``,
            ``dropout_rate``, ``topk``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 mid_channels: Sequence[int] = (828, ),
                 se_reduction: int = 16,
                 act_cfg: Optional[Dict] = dict(type='HSwish'),
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, list(mid_channels), act_cfg=act_cfg, **kwargs)
        self.se_last = CondenseSELayer(in_channels, se_reduction) if se_reduction else None

    def pre_logits(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """(B, C) pooled feature of the last stage -> (B, mid_channels[-1])."""
        x = feats[-1]
        if self.se_last is not None:
            x = self.se_last(x[:, :, None, None]).flatten(1)
        for layer in self.layers[:-1]:
            x = layer(x)
        return x
