# Copyright (c) dynamicnet contributors. All rights reserved.
"""The small U-Net shared by FOT's saliency extractor and posture generator.

dynamicnet's reconstruction [unconfirmed]: the FOT paper's networks are not available to the
project (``../shared/specs/fot.md`` §4), so both are a plain U-Net whose width and depth are
config options.
"""
from typing import List

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn

__all__ = ['FOTUNet']


class _DoubleConv(nn.Sequential):

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict) -> None:
        super().__init__(
            ConvModule(in_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg),
            ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg))


class FOTUNet(nn.Module):
    """U-Net: ``num_levels`` stride-2 stages down, bilinear up-sampling with skip connections.

    Args:
        in_channels: Input channels.
        out_channels: Output channels (raw, no activation).
        base_channels: Channels of the first level; doubled at each level.
        num_levels: Number of down-sampling steps. Inputs of any size work; odd sizes are
            handled by resizing each up-sampled map to its skip connection.
        norm_cfg: Normalisation layer config.

    Shapes:
        ``(B, in_channels, H, W) -> (B, out_channels, H, W)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 base_channels: int = 16,
                 num_levels: int = 3,
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        widths = [base_channels * 2 ** i for i in range(num_levels + 1)]
        self.encoders = nn.ModuleList([_DoubleConv(in_channels, widths[0], norm_cfg)] + [
            _DoubleConv(widths[i], widths[i + 1], norm_cfg) for i in range(num_levels)
        ])
        self.decoders = nn.ModuleList([
            _DoubleConv(widths[i + 1] + widths[i], widths[i], norm_cfg)
            for i in reversed(range(num_levels))
        ])
        self.out = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        skips: List[Tensor] = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else F.max_pool2d(x, 2, ceil_mode=True))
            skips.append(x)
        x = skips.pop()
        for decoder in self.decoders:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode='bilinear', align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        return self.out(x)
