# Copyright (c) dynamicnet contributors. All rights reserved.
"""RegNetY: RegNetX with squeeze-and-excitation (Radosavovic et al., CVPR 2020, arXiv 2003.13678).

GFNet uses RegNetY-600MF/800MF/1.6GF encoders from ``pycls`` (``../shared/specs/gfnet.md``
§3.1); mmpretrain 1.2 only ships RegNetX. :class:`RegNetY` reuses mmpretrain's
:class:`~mmpretrain.models.backbones.RegNet` (width generation, stem, stages, group widths) and
swaps the block for :class:`SEBottleneck`: pycls' ``ResBottleneckBlock`` with ``se_r = 0.25``,
i.e. 1x1 conv -> BN-ReLU -> 3x3 group conv (stride) -> BN-ReLU -> **SE** -> 1x1 conv -> BN, plus
the projection shortcut, then ReLU. The SE block squeezes to ``round(se_ratio * w_in)`` channels
(``w_in`` = the block's input width): global average pool -> 1x1 conv (bias) -> ReLU -> 1x1 conv
(bias) -> sigmoid, multiplied onto the 3x3 output.

Arch parameters (pycls model zoo configs): ``regnety_600mf`` (w0 48, wa 32.54, wm 2.32, group 16,
depth 15), ``regnety_800mf`` (56, 38.84, 2.4, 16, 14), ``regnety_1.6gf`` (48, 20.71, 2.65, 24,
27); final widths 608 / 768 / 888, the ``feature_num`` of GFNet's table.
"""
import torch.nn as nn
from mmpretrain.models.backbones.regnet import RegNet
from mmpretrain.models.backbones.resnet import ResLayer
from mmpretrain.models.backbones.resnext import Bottleneck
from torch import Tensor

from dynamicnet.registry import MODELS

__all__ = ['RegNetY', 'SEBottleneck']


class _SqueezeExcitation(nn.Module):

    def __init__(self, channels: int, squeezed: int):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.f_ex = nn.Sequential(
            nn.Conv2d(channels, squeezed, 1, bias=True), nn.ReLU(inplace=True),
            nn.Conv2d(squeezed, channels, 1, bias=True), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.f_ex(self.avg_pool(x))


class SEBottleneck(Bottleneck):
    """mmpretrain's ResNeXt bottleneck with SE after the grouped 3x3 conv (pycls RegNetY block).

    Args:
        se_ratio: SE width as a fraction of the block's **input** width (pycls: 0.25).
        **kwargs: As for :class:`mmpretrain.models.backbones.resnext.Bottleneck`.
    """

    def __init__(self, in_channels: int, out_channels: int, se_ratio: float = 0.25, **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        self.se = _SqueezeExcitation(self.mid_channels, int(round(se_ratio * in_channels)))

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        out = self.conv3(self.se(out))
        out = self.norm3(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(self.drop_path(out) + identity)


@MODELS.register_module()
class RegNetY(RegNet):
    """RegNetY backbone (mmpretrain ``RegNet`` with :class:`SEBottleneck` blocks).

    Args:
        arch: ``'regnety_600mf'``, ``'regnety_800mf'``, ``'regnety_1.6gf'`` or a dict with
            ``w0, wa, wm, group_w, depth, bot_mul``.
        se_ratio: SE squeeze ratio (0.25).
        **kwargs: As for :class:`mmpretrain.models.backbones.RegNet`.
    """

    arch_settings = {
        'regnety_600mf': dict(w0=48, wa=32.54, wm=2.32, group_w=16, depth=15, bot_mul=1.0),
        'regnety_800mf': dict(w0=56, wa=38.84, wm=2.4, group_w=16, depth=14, bot_mul=1.0),
        'regnety_1.6gf': dict(w0=48, wa=20.71, wm=2.65, group_w=24, depth=27, bot_mul=1.0),
    }

    def __init__(self, arch, se_ratio: float = 0.25, **kwargs):
        self.se_ratio = se_ratio
        super().__init__(arch, **kwargs)

    def make_res_layer(self, **kwargs) -> ResLayer:
        kwargs['block'] = SEBottleneck
        kwargs['se_ratio'] = self.se_ratio
        return ResLayer(**kwargs)
