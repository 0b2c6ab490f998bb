# Copyright (c) dynamicnet contributors. All rights reserved.
"""Layers of CondenseNetV2 (Yang et al., "CondenseNet V2: Sparse Feature Reactivation for Deep
Networks", CVPR 2021; spec ``../shared/specs/condensenetv2.md`` §2, §3, §6).

Training-time layers (masked dense 1x1 convolutions that condense during training):

* :class:`LearnedGroupConv` (LGC): BN(c_in) -> act -> masked 1x1 conv c_in -> c_out. The c_out
  outputs form ``groups`` interleaved groups (output o is in group ``o % groups``); each
  condensation event removes ``c_in // condense_factor`` more input channels per group.
* :class:`SparseFeatureReactivation` (SFR): BN(k) -> act -> masked 1x1 conv k -> c_out, the
  transposed idea: the k *inputs* form interleaved groups and each event removes
  ``c_out // condense_factor`` more *outputs* per group. Its BN gamma starts at 0.

Deployable layers (built from fully condensed training layers, no masks):

* :class:`CondensedLGC`: gather the kept inputs -> BN -> act -> grouped 1x1 conv -> shuffle.
* :class:`CondensedSFR`: BN -> act -> transposed shuffle -> grouped 1x1 conv -> scatter-add
  into the c_out channels (``index_add_``, not the official dense 0/1 matmul, pitfall 7).

Progress is held per module instance (the official code keeps it in a class attribute shared by
every model in the process, pitfall 1), and a jump over several schedule stages drops every missed
chunk (the official code drops one, pitfall 2).
"""
from abc import ABCMeta, abstractmethod
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmpretrain.models.utils import channel_shuffle
from torch import Tensor

__all__ = [
    'condensation_stage', 'LearnedGroupConv', 'SparseFeatureReactivation', 'CondensedLGC',
    'CondensedSFR', 'CondenseSELayer', 'PreActConv', 'AvgPool2x2', 'CONDENSING_LAYERS'
]


def condensation_stage(progress: float, condense_factor: int) -> int:
    """Schedule stage of the training progress (spec §3).

    Stage ``s`` is the smallest ``i`` in ``0..C-2`` with ``2p < (i + 1) / (C - 1)``, and ``C - 1``
    once ``2p >= 1``; stage ``s`` means ``s`` chunks have been dropped. Unlike the official code,
    stages are also computed for ``2p >= 1.001``, so that a schedule that never calls the model in
    ``0.5 <= p < 0.5005`` still reaches full condensation.

    Args:
        progress: Training progress ``p = iter / max_iters`` in [0, 1].
        condense_factor: The condensation factor C.

    Returns:
        The stage in ``0..C-1``.
    """
    for i in range(condense_factor - 1):
        if progress * 2 < (i + 1) / (condense_factor - 1):
            return i
    return condense_factor - 1


class _MaskedConv2d(nn.Conv2d):
    """A dense 1x1 convolution applied with ``weight * mask``.

    It stays an ``nn.Conv2d`` so that :func:`dynamicnet.utils.complexity.count_macs` counts it,
    at the density given by its ``mac_density`` attribute.
    """

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        return self._conv_forward(x, self.weight * mask, None)


class _GroupedPointwiseConv(nn.Conv2d):
    """Grouped 1x1 convolution computed as one batched matrix product.

    Same parameters and result as ``nn.Conv2d(c_in, c_out, 1, groups=G, bias=False)`` (up to
    float summation order); on CPU the batched product is about 2x faster than the grouped
    convolution kernel for the few channels per group of the condensed layers. It stays an
    ``nn.Conv2d`` so the MAC counter sees it.
    """

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        b, c, h, w = x.shape
        g = self.groups
        weight = self.weight.view(g, self.out_channels // g, c // g)
        if b == 1:  # e.g. the channel-major inference: one bmm, fewer dispatched ops
            out = torch.bmm(weight, x.reshape(g, c // g, h * w))
        else:
            out = torch.matmul(weight, x.reshape(b, g, c // g, h * w))
        return out.view(b, self.out_channels, h, w)


class _CondensingConv(nn.Module, metaclass=ABCMeta):
    """Common part of :class:`LearnedGroupConv` and :class:`SparseFeatureReactivation`.

    Args:
        in_channels: Input channels of the 1x1 conv.
        out_channels: Output channels of the 1x1 conv.
        groups: Number of groups G.
        condense_factor: Condensation factor C; after C - 1 events a group keeps 1/C of its
            candidates.
        act_cfg: Activation after the BN.

    Buffers (names and float dtype of the official checkpoints): ``_mask`` (c_out, c_in, 1, 1) in
    {0, 1}; ``_count`` (1,) candidates dropped per group so far; ``_stage`` (1,) the schedule stage
    reached.
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int, condense_factor: int,
                 act_cfg: Dict) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.groups = groups
        self.condense_factor = condense_factor
        self.act_cfg = dict(act_cfg)
        self.norm = nn.BatchNorm2d(in_channels)
        self.act = build_activation_layer(dict(act_cfg, inplace=True))
        self.conv = _MaskedConv2d(in_channels, out_channels, 1, bias=False)
        self.conv.mac_density = 1.0 / condense_factor
        self.register_buffer('_count', torch.zeros(1))
        self.register_buffer('_stage', torch.zeros(1))
        self.register_buffer('_mask', torch.ones_like(self.conv.weight))

    @property
    @abstractmethod
    def num_candidates(self) -> int:
        """Number of channels each group ranks (inputs for LGC, outputs for SFR)."""

    @abstractmethod
    def _group_importance(self, weight: Tensor) -> Tensor:
        """(G, num_candidates) importance: sum of |masked weight| over each group's members."""

    @abstractmethod
    def _drop(self, group: int, candidates: Tensor) -> None:
        """Zero the mask entries of ``candidates`` for ``group``."""

    @abstractmethod
    def _kept(self) -> Tensor:
        """(G, num_candidates) bool: candidates still connected, per group."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W)."""
        return self.conv(self.act(self.norm(x)), self._mask)

    @property
    def chunk(self) -> int:
        """Candidates dropped per group at one condensation event."""
        return self.num_candidates // self.condense_factor

    @property
    def stage(self) -> int:
        """Number of condensation events applied so far."""
        return int(self._stage.item())

    @torch.no_grad()
    def set_progress(self, progress: float) -> int:
        """Apply every condensation event due by ``progress``.

        Args:
            progress: Training progress in [0, 1] (``iter / max_iters``).

        Returns:
            The number of events (chunks dropped per group) applied by this call.
        """
        target = condensation_stage(progress, self.condense_factor)
        events = 0
        while self.stage < target:
            self._drop_chunk()
            self._stage.add_(1)
            events += 1
        return events

    @torch.no_grad()
    def _drop_chunk(self) -> None:
        # Rank only the still-connected candidates; the official code ranks all of them and
        # relies on dropped ones sorting first with importance 0, which is the same set unless a
        # live channel has exactly zero weight.
        weight = (self.conv.weight * self._mask).abs()[:, :, 0, 0]
        importance = self._group_importance(weight)
        importance = importance.masked_fill(~self._kept(), float('inf'))
        order = importance.argsort(dim=1, stable=True)
        for group in range(self.groups):
            self._drop(group, order[group, :self.chunk])
        self._count.add_(self.chunk)

    def kept_per_group(self) -> List[int]:
        """Number of connected candidates of each group."""
        return self._kept().sum(dim=1).tolist()

    def is_fully_condensed(self) -> bool:
        """Whether every group keeps exactly ``num_candidates / C`` candidates."""
        return all(k == self.num_candidates // self.condense_factor for k in self.kept_per_group())

    def _check_condensed(self, name: str) -> None:
        kept = self.kept_per_group()
        want = self.num_candidates // self.condense_factor
        if any(k != want for k in kept):
            raise ValueError(
                f'{name} is not fully condensed: groups keep {kept} of {self.num_candidates} '
                f'candidates, conversion needs exactly {want} each (stage {self.stage} of '
                f'{self.condense_factor - 1}; train to progress >= 0.5 or call '
                f'set_progress(1.0) first)')

    def condensed_parts(self, name: str) -> Tuple[Tensor, Tensor]:
        """What the deployable layer is built from, after :meth:`_check_condensed`.

        Returns:
            ``index`` (G * num_candidates / C,) int64: each group's kept candidates, groups in
            order, ascending within a group; ``weight`` (c_out, c_in): the masked 1x1 weight.
        """
        self._check_condensed(name)
        kept = self._kept()
        index = torch.cat([kept[i].nonzero()[:, 0] for i in range(self.groups)])
        return index, (self.conv.weight * self._mask)[:, :, 0, 0]

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, groups={self.groups}, '
                f'condense_factor={self.condense_factor}')


class LearnedGroupConv(_CondensingConv):
    """Learned group convolution (LGC, spec §2 step 1 and §3).

    Outputs are grouped interleaved (output o in group ``o % G``); every output of a group uses
    the same inputs. Each event drops, per group, the ``c_in // C`` connected inputs with the
    smallest summed ``|W|`` over the group's outputs.
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int, condense_factor: int,
                 act_cfg: Dict) -> None:
        super().__init__(in_channels, out_channels, groups, condense_factor, act_cfg)
        if in_channels % condense_factor or in_channels % groups or out_channels % groups:
            raise ValueError(f'LGC {in_channels}->{out_channels} needs in_channels divisible by '
                             f'condense_factor={condense_factor} and groups={groups}, and '
                             f'out_channels divisible by groups')

    @property
    def num_candidates(self) -> int:
        return self.in_channels

    def _group_importance(self, weight: Tensor) -> Tensor:
        # (c_out, c_in) -> (c_out / G, G, c_in): dim 1 is the group of each output.
        return weight.view(-1, self.groups, self.in_channels).sum(dim=0)

    def _drop(self, group: int, candidates: Tensor) -> None:
        self._mask[group::self.groups, candidates] = 0

    def _kept(self) -> Tensor:
        # Rows group::G share one input set; row g represents group g.
        return self._mask[:self.groups, :, 0, 0] > 0


class SparseFeatureReactivation(_CondensingConv):
    """Sparse feature reactivation (SFR, spec §2 step 4 and §3).

    Maps the k new features back onto the c_out = c_in layer inputs, to be **added** to them.
    Inputs are grouped interleaved (input i in group ``i % G``); each event drops, per group, the
    ``c_out // C`` connected outputs with the smallest summed ``|W|`` over the group's inputs. The
    BN gamma is initialised to 0 (beta = 0), so the reactivation is exactly 0 at initialisation.
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int, condense_factor: int,
                 act_cfg: Dict) -> None:
        super().__init__(in_channels, out_channels, groups, condense_factor, act_cfg)
        if out_channels % condense_factor or in_channels % groups:
            raise ValueError(f'SFR {in_channels}->{out_channels} needs out_channels divisible by '
                             f'condense_factor={condense_factor} and in_channels by '
                             f'groups={groups}')
        self.reset_gamma()

    def reset_gamma(self) -> None:
        """Zero the BN affine parameters (spec §2: SFR starts as the identity)."""
        nn.init.zeros_(self.norm.weight)
        nn.init.zeros_(self.norm.bias)

    @property
    def num_candidates(self) -> int:
        return self.out_channels

    def _group_importance(self, weight: Tensor) -> Tensor:
        # (c_out, k) -> (c_out, k / G, G): dim 2 is the group of each input.
        return weight.view(self.out_channels, -1, self.groups).sum(dim=1).t()

    def _drop(self, group: int, candidates: Tensor) -> None:
        self._mask[candidates, group::self.groups] = 0

    def _kept(self) -> Tensor:
        return self._mask[:, :self.groups, 0, 0].t() > 0


class CondensedLGC(nn.Module):
    """Deployable LGC (official ``CondensingLGC``, spec §6).

    Args:
        in_channels: c_in of the training layer.
        out_channels: c_out.
        groups: G.
        condense_factor: C; each group reads ``c_in // C`` inputs.
        act_cfg: Activation after the BN.
        with_bias: Add a per-output bias (in the training layer's output order), the BN that
            follows the layer folded in by :meth:`fuse_norm`.

    Buffers: ``index`` (c_in * G / C,) int64, for each group in order its kept input channels
    (ascending). The BN runs on the gathered channels (duplicates across groups allowed).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 groups: int,
                 condense_factor: int,
                 act_cfg: Dict,
                 with_bias: bool = False) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.groups = groups
        self.condense_factor = condense_factor
        selected = in_channels * groups // condense_factor
        self.register_buffer('index', torch.zeros(selected, dtype=torch.long))
        self.norm = nn.BatchNorm2d(selected)
        self.act = build_activation_layer(dict(act_cfg, inplace=True))
        self.conv = _GroupedPointwiseConv(selected, out_channels, 1, groups=groups, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if with_bias else None

    def _grouped(self, x: Tensor) -> Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W) in group order (group i's outputs together)."""
        x = torch.index_select(x, 1, self.index)
        return self.conv(self.act(self.norm(x)))

    def _output(self, y: Tensor, height: int, width: int) -> Tensor:
        """(B, c_out / G, G, H * W) view holding output ``o = r * G + i`` at ``[:, r, i]`` ->
        contiguous (B, c_out, H, W): the channel shuffle, with the folded bias in the same pass.
        """
        if self.bias is None:
            out = y.contiguous()
        elif torch.is_grad_enabled() or torch.compiler.is_compiling():
            # out= supports neither autograd nor torch.compile's functionalisation (its result
            # keeps y's strides there, so the view below would fail).
            out = (y + self.bias.view(1, -1, self.groups, 1)).contiguous()
        else:
            out = torch.add(y, self.bias.view(1, -1, self.groups, 1), out=y.new_empty(y.shape))
        return out.view(y.shape[0], self.out_channels, height, width)

    def forward(self, x: Tensor) -> Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W), output order equal to the training layer's."""
        y = self._grouped(x)
        b, _, h, w = y.shape
        # Group i produced outputs i, i + G, ...: shuffle restores the order o = r * G + i.
        return self._output(y.view(b, self.groups, -1, h * w).transpose(1, 2), h, w)

    def forward_channel_major(self, x: Tensor) -> Tensor:
        """Channel-major input (c_in, B, H, W) -> (B, c_out, H, W) in the training layer's order.

        The input is processed as one (1, c_in, B * H, W) image: the gather copies whole
        channels and the grouped product is one matrix product per group over all B * H * W
        pixels. The channel shuffle and the change back to (B, C, H, W) are one copy.
        """
        c, b, h, w = x.shape
        y = self._grouped(x.view(1, c, b * h, w))
        return self._output(y.view(self.groups, -1, b, h * w).permute(2, 1, 0, 3), h, w)

    @torch.no_grad()
    def fuse_norm(self, norm: nn.BatchNorm2d) -> None:
        """Fold ``norm``, an eval-mode BN applied to this layer's output, into it.

        ``BN(y) = y * s + t`` per output channel: the rows of the grouped weight are scaled by
        ``s`` and ``t`` becomes the bias (mmcv ``fuse_conv_bn`` for a grouped, shuffled output).
        """
        if self.bias is not None:
            raise ValueError('the BN after this layer is already folded in')
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        # Weight row i * (c_out / G) + r computes output r * G + i.
        self.conv.weight.mul_(scale.view(-1, self.groups).t().reshape(-1, 1, 1, 1))
        self.bias = nn.Parameter(norm.bias - norm.running_mean * scale)

    @classmethod
    @torch.no_grad()
    def from_training(cls, lgc: LearnedGroupConv, name: str = 'LGC') -> 'CondensedLGC':
        """Build from a fully condensed :class:`LearnedGroupConv` (raises ``ValueError`` else)."""
        index, weight = lgc.condensed_parts(name)
        new = cls(lgc.in_channels, lgc.out_channels, lgc.groups, lgc.condense_factor,
                  lgc.act_cfg).to(lgc.conv.weight)
        groups = lgc.groups
        new.index.copy_(index)
        _copy_bn(new.norm, lgc.norm, index)
        per_group = lgc.in_channels // lgc.condense_factor
        blocks = [weight[i::groups, index[i * per_group:(i + 1) * per_group]]
                  for i in range(groups)]
        new.conv.weight.copy_(torch.cat(blocks, dim=0)[:, :, None, None])
        return new.train(lgc.training)


class CondensedSFR(nn.Module):
    """Deployable SFR (official ``CondensingSFR``, spec §6).

    Args:
        in_channels: k of the training layer.
        out_channels: c_out (the layer's input width).
        groups: G.
        condense_factor: C; each input group writes ``c_out // C`` outputs.
        act_cfg: Activation after the BN.

    Buffers: ``index`` (c_out * G / C,) int64, the output channel each grouped-conv output is
    added to (the official checkpoints store it as a dense 0/1 matrix of shape
    (c_out * G / C, c_out)).
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int, condense_factor: int,
                 act_cfg: Dict) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.groups = groups
        self.condense_factor = condense_factor
        selected = out_channels * groups // condense_factor
        self.register_buffer('index', torch.zeros(selected, dtype=torch.long))
        self.norm = nn.BatchNorm2d(in_channels)
        self.act = build_activation_layer(dict(act_cfg, inplace=True))
        self.conv = _GroupedPointwiseConv(in_channels, selected, 1, groups=groups, bias=False)

    def _grouped(self, x: Tensor) -> Tensor:
        """(B, k, H, W) -> (B, c_out * G / C, H, W) before the scatter."""
        x = self.act(self.norm(x))
        # Transposed shuffle: group i receives inputs i, i + G, ...
        x = channel_shuffle(x, self.in_channels // self.groups)
        return self.conv(x)

    def forward(self, x: Tensor) -> Tensor:
        """(B, k, H, W) -> (B, c_out, H, W)."""
        x = self._grouped(x)
        out = x.new_zeros(x.shape[0], self.out_channels, x.shape[2], x.shape[3])
        return out.index_add_(1, self.index, x)

    def reactivate_channel_major(self, features: Tensor, new: Tensor) -> None:
        """``features += self(new)`` in place, for channel-major features.

        Args:
            features: (c_out, B, H, W) contiguous, the layer input (a dense-block buffer slice).
            new: (B, k, H, W) the new features.
        """
        b, k, h, w = new.shape
        x = self.act(self.norm(new))
        # Transposed shuffle (group i receives inputs i, i + G, ...) and the change to
        # channel-major order in one copy: (B, k / G, G, HW) -> (G, k / G, B, HW).
        x = x.view(b, k // self.groups, self.groups, h * w).permute(2, 1, 0, 3)
        x = self.conv(x.reshape(1, k, b * h, w))
        # Each index adds a contiguous row of B * H * W values.
        features.view(self.out_channels, -1).index_add_(0, self.index, x.view(x.shape[1], -1))

    def reactivate_and_concat(self, features: Tensor, new: Tensor) -> Tensor:
        """``concat([features + self(new), new])`` without the dense intermediate.

        The scatter-add writes straight into the concatenated output (one pass fewer over the
        c_out reused channels than ``features + self(new)`` followed by ``torch.cat``).

        Args:
            features: (B, c_out, H, W) the layer input.
            new: (B, k, H, W) the new features.

        Returns:
            (B, c_out + k, H, W).
        """
        out = torch.cat([features, new], dim=1)
        out[:, :self.out_channels].index_add_(1, self.index, self._grouped(new))
        return out

    @classmethod
    @torch.no_grad()
    def from_training(cls, sfr: SparseFeatureReactivation, name: str = 'SFR') -> 'CondensedSFR':
        """Build from a fully condensed :class:`SparseFeatureReactivation` (``ValueError`` else)."""
        index, weight = sfr.condensed_parts(name)
        new = cls(sfr.in_channels, sfr.out_channels, sfr.groups, sfr.condense_factor,
                  sfr.act_cfg).to(sfr.conv.weight)
        groups = sfr.groups
        new.index.copy_(index)
        _copy_bn(new.norm, sfr.norm)
        per_group = sfr.out_channels // sfr.condense_factor
        blocks = [weight[index[i * per_group:(i + 1) * per_group], i::groups]
                  for i in range(groups)]
        new.conv.weight.copy_(torch.cat(blocks, dim=0)[:, :, None, None])
        return new.train(sfr.training)


def _copy_bn(dst: nn.BatchNorm2d, src: nn.BatchNorm2d, index: Optional[Tensor] = None) -> None:
    """Copy affine parameters and running statistics, optionally of selected channels."""
    for attr in ('weight', 'bias', 'running_mean', 'running_var'):
        value = getattr(src, attr)
        getattr(dst, attr).copy_(value if index is None else value[index])
    dst.num_batches_tracked.copy_(src.num_batches_tracked)
    dst.eps, dst.momentum = src.eps, src.momentum


class CondenseSELayer(nn.Module):
    """Squeeze-and-excitation of the official code: pool -> FC -> ReLU -> FC -> sigmoid, no bias.

    Args:
        channels: Channels C of the (B, C, H, W) input.
        reduction: Hidden width is ``C // reduction`` (1 inside dense layers, 16 before the
            classifier).
    """

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        # Indices 0 and 2 hold the weights, as in the official checkpoints (``fc.0``/``fc.2``).
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels, bias=False), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W) rescaled per channel."""
        scale = self.fc(self.pool(x).flatten(1))
        return x * scale[:, :, None, None]


class AvgPool2x2(nn.AvgPool2d):
    """``nn.AvgPool2d(2, 2)`` (floor mode), computed on CPU as two strided additions.

    The dense-block transitions pool up to thousands of channels. PyTorch's CPU ``avg_pool2d``
    kernel for NCHW tensors is 4-8x slower than adding the row pairs and then the column pairs
    (e.g. 4.6 ms vs 1.0 ms for a (8, 24, 112, 112) input on one thread); the result is the same up
    to float rounding. Other devices use the native kernel. It stays an ``nn.AvgPool2d`` so that
    :func:`dynamicnet.utils.complexity.count_macs` counts it.
    """

    def __init__(self) -> None:
        super().__init__(2, 2)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H // 2, W // 2); an odd last row / column is dropped."""
        if x.device.type != 'cpu':
            return super().forward(x)
        h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
        rows = x[..., 0:h:2, :w] + x[..., 1:h:2, :w]
        return (rows[..., 0::2] + rows[..., 1::2]).mul_(0.25)


# Elements of one depthwise intermediate of :class:`_GroupConv2d` (1 MiB of float32).
_DEPTHWISE_CHUNK_ELEMENTS = 2**18


class _GroupConv2d(nn.Conv2d):
    """Grouped convolution without bias; one output per group is computed as depthwise + sum.

    With one output channel per group (``out_channels == groups``, the 3x3 convolution of the
    first dense blocks: e.g. 32 -> 8 channels in 8 groups), output ``g`` is the sum over the
    group's inputs ``c`` of ``w[g, c] * x[c]``. On CPU that is computed as a depthwise
    convolution (one kernel per input channel) followed by the sum over each group's channels:
    the same products, summed in another order. oneDNN's grouped kernel is 3-4x slower on these
    shapes (e.g. 1.4 ms vs 0.4 ms for a (1, 32, 112, 112) input, one thread); with several outputs
    per group the depthwise form is slower and is not used. The depthwise result is
    ``in_channels / groups`` times the output, so it is computed for as many images at a time as
    keep it within ``_DEPTHWISE_CHUNK_ELEMENTS`` (1 MiB of float32): a whole-batch intermediate is
    mapped and page-faulted afresh at every call by glibc's default allocator (a (32, 32, 112,
    112) input: 99 ms whole-batch, 16 ms per image, 47 ms oneDNN's grouped kernel; 22 / 17 / 47 ms
    with memory reuse). Other devices use the native kernel. Parameters and MAC count are those of
    the grouped convolution.
    """

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        """(B, C_in, H, W) -> (B, C_out, H', W')."""
        if x.device.type != 'cpu' or self.out_channels != self.groups:
            return super().forward(x)
        weight = self.weight.reshape(x.shape[1], 1, *self.kernel_size)
        images = max(1, _DEPTHWISE_CHUNK_ELEMENTS // max(1, x.shape[1:].numel()))
        outs = [self._depthwise_sum(chunk, weight) for chunk in x.split(images)]
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def _depthwise_sum(self, x: Tensor, weight: Tensor) -> Tensor:
        b, c = x.shape[:2]
        y = F.conv2d(x, weight, None, self.stride, self.padding, self.dilation, c)
        return y.view(b, self.groups, c // self.groups, *y.shape[2:]).sum(2)


class PreActConv(nn.Sequential):
    """BN -> act -> conv (the official ``Conv`` block; keys ``norm.*`` and ``conv.weight``).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel size (padding keeps the resolution).
        groups: Convolution groups.
        act_cfg: Activation.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, groups: int,
                 act_cfg: Dict) -> None:
        super().__init__(
            OrderedDict(
                norm=nn.BatchNorm2d(in_channels),
                act=build_activation_layer(dict(act_cfg, inplace=True)),
                conv=_GroupConv2d(in_channels, out_channels, kernel_size,
                                  padding=kernel_size // 2, groups=groups, bias=False)))


CONDENSING_LAYERS = (LearnedGroupConv, SparseFeatureReactivation)
