# Copyright (c) dynamicnet contributors. All rights reserved.
"""A downstream project's own component, registered into dynamicnet's registry.

As in the ``projects/`` of mmpretrain and mmdet3d, project code registers into the host
library's registry and configs import it with ``custom_imports``.
"""
from typing import Tuple

import torch
import torch.nn as nn

from dynamicnet.registry import MODELS


@MODELS.register_module()
class GatedAveragePooling(nn.Module):
    """Global average pooling with a learned per-channel sigmoid gate (squeeze-excitation style).

    Args:
        in_channels: Channels C of the last feature map.
        reduction: Bottleneck ratio of the gate.

    Shapes:
        inputs: tuple of ``(N, C, H, W)`` feature maps; only the last is used.
        output: ``((N, C),)``, the format of mmpretrain's ``GlobalAveragePooling``.
    """

    def __init__(self, in_channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(in_channels // reduction, 1)
        self.gate = nn.Sequential(
            nn.Linear(in_channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, in_channels),
            nn.Sigmoid())

    def forward(self, inputs: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor]:
        pooled = inputs[-1].mean(dim=(2, 3))
        return (pooled * self.gate(pooled), )
