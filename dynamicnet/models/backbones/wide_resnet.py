# Copyright (c) dynamicnet contributors. All rights reserved.
"""Wide residual networks for CIFAR (WRN-d-k).

Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016: a 3×3 stem with 16 channels, three
groups of ``n = (d − 4)/6`` pre-activation basic blocks with ``16k/32k/64k`` channels at
32/16/8 px, then BN + ReLU. The layout follows the implementation the ISDA official CIFAR code uses
(``WideResNet-pytorch``): BN-ReLU-conv3×3-BN-ReLU-dropout-conv3×3 blocks with a 1×1 projection
shortcut (fed by the pre-activation) where the width or stride changes. WRN-28-10 has 36.5 M
parameters with a 100-way classifier and a 640-d pooled feature.
"""
from typing import Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from dynamicnet.registry import MODELS

__all__ = ['WideResNet']


class _WideBasicBlock(nn.Module):
    """Pre-activation basic block ``(N, C_in, H, W) → (N, C_out, H/s, W/s)``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, drop_rate: float):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.shortcut = None
        if in_channels != out_channels or stride != 1:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.dropout(self.relu(self.bn2(out))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


@MODELS.register_module()
class WideResNet(BaseModule):
    """WRN-``depth``-``widen_factor`` for 32×32 inputs.

    Input ``(N, 3, H, W)``; output a 1-tuple ``((N, 64·widen_factor, H/4, W/4),)`` after the final
    BN + ReLU (use ``GlobalAveragePooling`` + a linear head).

    Args:
        depth: ``6n + 4`` (e.g. 16, 28, 40).
        widen_factor: ``k``.
        drop_rate: Dropout inside each block (0.3 in the ISDA README commands for WRN).
        in_channels: Input channels.
        init_cfg: mmengine init config; defaults to Kaiming for convs and constant BN.
    """

    def __init__(self,
                 depth: int = 28,
                 widen_factor: int = 10,
                 drop_rate: float = 0.0,
                 in_channels: int = 3,
                 init_cfg=(dict(type='Kaiming', layer='Conv2d', mode='fan_out',
                                nonlinearity='relu'),
                           dict(type='Constant', val=1, layer='BatchNorm2d'))) -> None:
        super().__init__(init_cfg=list(init_cfg) if init_cfg is not None else None)
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f'WideResNet depth must be 6n + 4 with n >= 1, got {depth}')
        blocks = (depth - 4) // 6
        widths = (16 * widen_factor, 32 * widen_factor, 64 * widen_factor)
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        layers = []
        in_ch = 16
        for stage, (width, stride) in enumerate(zip(widths, (1, 2, 2))):
            stage_blocks = []
            for i in range(blocks):
                stage_blocks.append(
                    _WideBasicBlock(in_ch, width, stride if i == 0 else 1, drop_rate))
                in_ch = width
            layers.append(nn.Sequential(*stage_blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.bn = nn.BatchNorm2d(in_ch)
        self.relu = nn.ReLU(inplace=True)
        self.out_channels = in_ch

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        return (self.relu(self.bn(x)), )
