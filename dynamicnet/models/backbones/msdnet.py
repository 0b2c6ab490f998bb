# Copyright (c) dynamicnet contributors. All rights reserved.
"""MSDNet: Multi-Scale Dense Networks (Huang et al., ICLR 2018, arXiv 1703.09844).

A faithful re-implementation of the official ``kalviny/MSDNet-PyTorch`` (commit ``f654595``)
architecture, ``../shared/specs/dynamic-inference.md`` §3.1, split into ``num_blocks`` **stages**
for :class:`dynamicnet.models.classifiers.EarlyExitClassifier`:

* Features are kept at ``S = len(gr_factor)`` scales; scale ``s`` has ``channels * gr_factor[s]``
  channels (``channels`` grows by ``growth_rate`` per layer and halves at transitions).
* First layer: scale 1 = 3x3/1 conv (CIFAR) or 7x7/2 conv (with bias) + 3x3/2 max-pool
  (ImageNet); every further scale a 3x3/2 conv from the previous scale. Conv-BN-ReLU everywhere.
* MSD layer: the finest retained scale gets a "normal" 3x3 conv branch (``growth * gr[s]``
  channels) unless a finer scale was just discarded; every other scale concatenates
  ``[x_s, down3x3/2(x_{s-1}), normal3x3(x_s)]`` with half the growth per branch. Each branch has a
  1x1 bottleneck of width ``min(nIn, bn_factor[s] * nOut)``.
* ``prune='max'`` drops the finest scale every ``ceil(L / S)`` layers (``L`` = total layers);
  after a drop a transition (1x1 conv-BN-ReLU per remaining scale, ``reduction`` 0.5) follows.
  ``prune='min'`` (transitions at L/3 and 2L/3, scales dropped only at the very end) is also
  supported.
* Layers per block: ``base`` then ``step`` (``step_mode='even'``) or ``step * i + 1``
  (``'lin_grow'``).

Stage ``k`` returns the list of its scale features (finest first); exits read the coarsest scale
(:class:`MSDNetExitHead`: two 3x3/2 conv-BN-ReLU, 2x2 average pool, linear).

Parameter names differ from the official ones (mmcv ``ConvModule`` naming);
``tools/model_converters/msdnet_to_dynamicnet.py`` maps official checkpoints.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from dynamicnet.registry import MODELS

__all__ = ['MSDNet', 'MSDNetExitHead', 'msdnet_layer_plan']


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int,
          bias: bool = False) -> ConvModule:
    """Conv-BN-ReLU with the official init (Kaiming normal, fan-out)."""
    return ConvModule(
        in_channels,
        out_channels,
        kernel,
        stride=stride,
        padding=(kernel - 1) // 2,
        bias=bias,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU', inplace=True))


class _Branch(nn.Module):
    """Optional 1x1 bottleneck then a 3x3 conv (stride 1 "normal" or stride 2 "down")."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, bottleneck: bool,
                 bn_width: int):
        super().__init__()
        inner = in_channels
        self.bottleneck = None
        if bottleneck:
            inner = min(in_channels, bn_width * out_channels)
            self.bottleneck = _conv(in_channels, inner, 1, 1)
        self.conv = _conv(inner, out_channels, 3, stride)

    def forward(self, x: Tensor) -> Tensor:
        if self.bottleneck is not None:
            x = self.bottleneck(x)
        return self.conv(x)


class _ScaleUnit(nn.Module):
    """One scale of an MSD layer: ``cat([x_s, down(x_{s-1}), normal(x_s)])`` or
    ``cat([x_s, normal(x_s)])`` when there is no finer input."""

    def __init__(self, in_fine: Optional[int], in_same: int, out_channels: int, bottleneck: bool,
                 bn_fine: Optional[int], bn_same: int):
        super().__init__()
        if in_fine is None:
            self.down = None
            self.normal = _Branch(in_same, out_channels, 1, bottleneck, bn_same)
        else:
            self.down = _Branch(in_fine, out_channels // 2, 2, bottleneck, bn_fine)
            self.normal = _Branch(in_same, out_channels // 2, 1, bottleneck, bn_same)

    def forward(self, fine: Optional[Tensor], same: Tensor) -> Tensor:
        if self.down is None:
            return torch.cat([same, self.normal(same)], dim=1)
        return torch.cat([same, self.down(fine), self.normal(same)], dim=1)


class _MaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` that pools a channels-last copy on CPU (same result).

    PyTorch's CPU kernel for NCHW max pooling is far slower than its channels-last one: the
    ImageNet stem's 3x3/2 pooling of 16x64x112x112 maps took 98 ms, against 24 ms for the copy,
    the channels-last pooling and the copy back (one thread). It is 16 % of block 1's time at
    224x224, time that no early exit can save; MACs count it as pooling either way (a subclass).
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type != 'cpu':
            return super().forward(x)
        return super().forward(x.contiguous(memory_format=torch.channels_last)).contiguous()


class _FirstLayer(nn.Module):
    """Builds the ``S`` initial scales from the image."""

    def __init__(self, in_channels: int, channels: Sequence[int], stem: str):
        super().__init__()
        self.scales = nn.ModuleList()
        if stem == 'cifar':
            self.scales.append(_conv(in_channels, channels[0], 3, 1))
            self.pool = None
        elif stem == 'imagenet':
            self.scales.append(_conv(in_channels, channels[0], 7, 2, bias=True))
            self.pool = _MaxPool2d(3, 2, 1)
        else:
            raise ValueError(f'stem must be "cifar" or "imagenet", got {stem!r}')
        for s in range(1, len(channels)):
            self.scales.append(_conv(channels[s - 1], channels[s], 3, 2))

    def forward(self, x: Tensor) -> List[Tensor]:
        out = []
        for s, conv in enumerate(self.scales):
            x = conv(x)
            if s == 0 and self.pool is not None:
                x = self.pool(x)
            out.append(x)
        return out


class _MSDLayer(nn.Module):
    """One MSD layer from ``in_scales`` to ``out_scales`` (``out <= in``) scales."""

    def __init__(self, channels: int, growth: int, gr: Sequence[int], bnf: Sequence[int],
                 in_scales: int, out_scales: int, bottleneck: bool):
        super().__init__()
        num_scales = len(gr)
        self.discard = in_scales - out_scales
        offset = num_scales - out_scales
        self.scales = nn.ModuleList()
        for s in range(offset, num_scales):
            has_fine = s > offset or self.discard > 0
            self.scales.append(
                _ScaleUnit(channels * gr[s - 1] if has_fine else None, channels * gr[s],
                           growth * gr[s], bottleneck, bnf[s - 1] if has_fine else None, bnf[s]))

    def forward(self, x: List[Tensor]) -> List[Tensor]:
        # inputs are the in_scales coarsest maps; drop the finest when discarding
        start = self.discard
        out = []
        for i, unit in enumerate(self.scales):
            same = x[start + i]
            fine = x[start + i - 1] if (i > 0 or self.discard > 0) else None
            out.append(unit(fine, same))
        return out


class _Transition(nn.Module):
    """1x1 conv-BN-ReLU per retained scale (channel reduction after a scale drop)."""

    def __init__(self, in_channels: int, out_channels: int, gr: Sequence[int], offset: int,
                 num_scales: int):
        super().__init__()
        self.scales = nn.ModuleList(
            _conv(in_channels * gr[offset + i], out_channels * gr[offset + i], 1, 1)
            for i in range(num_scales))

    def forward(self, x: List[Tensor]) -> List[Tensor]:
        return [conv(f) for conv, f in zip(self.scales, x)]


def msdnet_layer_plan(num_blocks: int, step_mode: str, step: int, base: int, num_scales: int,
                      prune: str, reduction: float) -> List[List[Tuple]]:
    """The official layer schedule, per block: ``('msd', in_scales, out_scales)`` and
    ``('transition', out_scales)`` entries (``MSDNet._build_block`` of the official code)."""
    steps = [base]
    for i in range(1, num_blocks):
        steps.append(step if step_mode == 'even' else step * i + 1)
    total = sum(steps)
    plan, current = [], 0
    for block_steps in steps:
        block = []
        for _ in range(block_steps):
            current += 1
            if prune == 'min':
                in_scales = min(num_scales, total - current + 2)
                out_scales = min(num_scales, total - current + 1)
            elif prune == 'max':
                interval = math.ceil(total / num_scales)
                in_scales = num_scales - math.floor(max(0, current - 2) / interval)
                out_scales = num_scales - math.floor((current - 1) / interval)
            else:
                raise ValueError(f'prune must be "max" or "min", got {prune!r}')
            block.append(('msd', in_scales, out_scales))
            if reduction > 0 and ((prune == 'max' and in_scales > out_scales) or
                                  (prune == 'min' and current in (math.floor(total / 3),
                                                                  math.floor(2 * total / 3)))):
                block.append(('transition', out_scales))
        plan.append(block)
    return plan


@MODELS.register_module()
class MSDNet(BaseModule):
    """Multi-scale dense network, run block by block.

    Args:
        num_blocks: Number of blocks = exits (``--nBlocks``).
        step_mode: ``'even'`` or ``'lin_grow'`` (``--stepmode``).
        step: Layers per block after the first (``--step``).
        base: Layers in the first block (``--base``).
        channels: Initial channels at scale 1 before ``gr_factor`` (``--nChannels``).
        growth_rate: Channels added per layer before ``gr_factor`` (``--growthRate``).
        gr_factor: Channel multiplier per scale; its length is the number of scales.
        bn_factor: Bottleneck width multiplier per scale.
        bottleneck: Use 1x1 bottlenecks (official default True).
        reduction: Transition compression (0.5).
        prune: ``'max'`` (official default) or ``'min'``.
        stem: ``'cifar'`` (3x3/1) or ``'imagenet'`` (7x7/2 + max-pool).
        in_channels: Image channels.
        init_cfg: Defaults to mmcv ``ConvModule``'s Kaiming-normal fan-out init, which is the
            official ``normal(0, sqrt(2 / (k*k*out)))``; BN weight 1, bias 0.

    Attributes:
        exit_channels: Channels of the coarsest scale after each block (exit inputs).
    """

    def __init__(self,
                 num_blocks: int = 5,
                 step_mode: str = 'even',
                 step: int = 4,
                 base: int = 4,
                 channels: int = 32,
                 growth_rate: int = 16,
                 gr_factor: Sequence[int] = (1, 2, 4, 4),
                 bn_factor: Sequence[int] = (1, 2, 4, 4),
                 bottleneck: bool = True,
                 reduction: float = 0.5,
                 prune: str = 'max',
                 stem: str = 'imagenet',
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if len(gr_factor) != len(bn_factor):
            raise ValueError('gr_factor and bn_factor need one entry per scale')
        num_scales = len(gr_factor)
        self.num_stages = num_blocks
        plan = msdnet_layer_plan(num_blocks, step_mode, step, base, num_scales, prune, reduction)
        self.blocks = nn.ModuleList()
        self.exit_channels: List[int] = []
        width = channels
        for b, block_plan in enumerate(plan):
            layers = nn.ModuleList()
            if b == 0:
                layers.append(
                    _FirstLayer(in_channels, [channels * g for g in gr_factor], stem))
            for entry in block_plan:
                if entry[0] == 'msd':
                    _, in_scales, out_scales = entry
                    layers.append(
                        _MSDLayer(width, growth_rate, gr_factor, bn_factor, in_scales,
                                  out_scales, bottleneck))
                    width += growth_rate
                else:
                    out_scales = entry[1]
                    reduced = math.floor(reduction * width)
                    layers.append(
                        _Transition(width, reduced, gr_factor, num_scales - out_scales,
                                    out_scales))
                    width = reduced
            self.blocks.append(layers)
            self.exit_channels.append(width * gr_factor[-1])

    def forward_stage(self, k: int, x) -> List[Tensor]:
        """Run block ``k`` on the image (``k = 0``) or on block ``k - 1``'s scale list."""
        for layer in self.blocks[k]:
            x = layer(x)
        return x

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Coarsest-scale feature after every block (the exits' inputs)."""
        outs = []
        for k in range(self.num_stages):
            x = self.forward_stage(k, x)
            outs.append(x[-1])
        return tuple(outs)


@MODELS.register_module()
class MSDNetExitHead(BaseModule):
    """MSDNet intermediate classifier on the coarsest scale.

    Two 3x3/2 conv-BN-ReLU (``inter_channels`` each: 128 on CIFAR, the input width on ImageNet),
    2x2 average pooling, flatten, linear.

    Args:
        in_channels: Input channels (coarsest scale).
        num_classes: Classes.
        inter_channels: Conv width; ``None`` keeps ``in_channels`` (ImageNet).
        init_cfg: Initialisation config; by default convs use ``ConvModule``'s Kaiming init and
            the linear bias starts at zero, as in the official code.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 inter_channels: Optional[int] = 128,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        width = in_channels if inter_channels is None else inter_channels
        self.convs = nn.Sequential(_conv(in_channels, width, 3, 2), _conv(width, width, 3, 2))
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(width, num_classes)
        nn.init.zeros_(self.fc.bias)

    def forward(self, feats: List[Tensor]) -> Tensor:
        x = self.pool(self.convs(feats[-1]))
        return self.fc(x.flatten(1))
