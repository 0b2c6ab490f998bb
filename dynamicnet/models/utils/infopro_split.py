# Copyright (c) dynamicnet contributors. All rights reserved.
"""Splitting a ResNet-like backbone into InfoPro's gradient-isolated local modules.

InfoPro ("Revisiting Locally Supervised Learning: an Alternative to End-to-end Training", Wang
et al., ICLR 2021) cuts a network into ``K`` local modules. A split is written as the official
code writes it (``networks/configs.py``): a list of ``K - 1`` entries ``[stage, block]``, each
meaning "end a local module after block ``block`` (0-based) of stage ``stage``", where stage 0 is
the stem and stages 1.. are the residual stages (``layer1``, ``layer2``, ...). The named presets
below are the official tables (``../shared/specs/infopro.md`` §5.1).

Any backbone with mmpretrain's / mmseg's ResNet layout can be split: a stem (``stem`` for a deep
stem, else ``conv1``/``norm1``/``relu``; then ``maxpool`` when it exists) followed by the
``res_layers`` sequences. That covers mmpretrain ``ResNet``, ``ResNetV1c/d``, ``ResNeXt``,
``ResNet_CIFAR``, dynamicnet ``CIFARResNet`` and mmseg ``ResNetV1c``.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = [
    'INFOPRO_SPLITS', 'BackboneUnit', 'resnet_units', 'resolve_split', 'partition_units',
    'unit_out_channels', 'infopro_loss_weights'
]

SplitSpec = Sequence[Sequence[int]]

# [official code `networks/configs.py`]; keys are dynamicnet names. "balanced" = InfoPro*
# (`--balanced_memory`), whose splits depend on the data set.
INFOPRO_SPLITS: Dict[str, List[List[int]]] = {
    # ResNet-32 (5 blocks / stage), equal-depth InfoPro splits.
    'resnet32_k2': [[2, 1]],
    'resnet32_k3': [[1, 4], [2, 4]],
    'resnet32_k4': [[1, 2], [2, 1], [3, 0]],
    'resnet32_k8': [[1, 0], [1, 2], [1, 4], [2, 1], [2, 3], [3, 0], [3, 2]],
    'resnet32_k16': [[0, 0], [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [2, 0], [2, 1], [2, 2],
                     [2, 3], [2, 4], [3, 0], [3, 1], [3, 2], [3, 3]],
    # ResNet-110 (18 blocks / stage), equal-depth InfoPro splits.
    'resnet110_k2': [[2, 8]],
    'resnet110_k3': [[1, 17], [2, 17]],
    'resnet110_k4': [[1, 11], [2, 7], [3, 3]],
    'resnet110_k8': [[1, 4], [1, 11], [2, 0], [2, 7], [2, 14], [3, 3], [3, 10]],
    'resnet110_k16': [[1, 1], [1, 4], [1, 7], [1, 10], [1, 13], [1, 16], [2, 1], [2, 4], [2, 7],
                      [2, 11], [2, 15], [3, 1], [3, 5], [3, 9], [3, 13]],
    # ResNet-110 InfoPro* (memory-balanced) splits.
    'resnet110_k2_balanced_cifar10': [[1, 14]],
    'resnet110_k3_balanced_cifar10': [[1, 9], [2, 2]],
    'resnet110_k4_balanced_cifar10': [[1, 6], [1, 14], [2, 8]],
    'resnet110_k2_balanced_stl10': [[1, 14]],
    'resnet110_k3_balanced_stl10': [[1, 8], [2, 1]],
    'resnet110_k4_balanced_stl10': [[1, 6], [1, 14], [2, 8]],
    # ImageNet, K = 2: module 1 = stem + layer1 + layer2[0..k].
    'resnet101_imagenet_k2': [[2, 0]],
    'resnet152_imagenet_k2': [[2, 5]],
    'resnext101_32x8d_imagenet_k2': [[2, 2]],
    # Cityscapes, K = 2: module 1 = ResNetV1c-101-d8 stem + layer1 + layer2 + layer3[0..12].
    'resnetv1c101_cityscapes_k2': [[3, 12]],
}


@dataclass(frozen=True)
class BackboneUnit:
    """The smallest piece a split can cut after: the stem or one residual block.

    Attributes:
        stage: 0 for the stem, ``s`` for the ``s``-th residual stage (``layer{s}``).
        block: Block index inside the stage (0 for the stem).
        layers: Modules applied in order; they stay owned by the backbone.
        stage_end: Whether this unit is the last one of its stage.
    """
    stage: int
    block: int
    layers: Tuple[nn.Module, ...]
    stage_end: bool

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def modules(self):
        """Every module of this unit (recursively), for parameter grouping and BN handling."""
        for layer in self.layers:
            yield from layer.modules()


def resnet_units(backbone: nn.Module) -> List[BackboneUnit]:
    """The stem and every residual block of a ResNet-like backbone, in network order.

    Args:
        backbone: A backbone with mmpretrain's / mmseg's ResNet attributes.

    Returns:
        ``1 + sum(stage_blocks)`` units; applying them in order equals the backbone's forward
        (the caller collects the stage outputs named by ``backbone.out_indices``).
    """
    if not hasattr(backbone, 'res_layers'):
        raise TypeError(f'{type(backbone).__name__} has no `res_layers`: InfoPro splits need a '
                        'ResNet-like backbone (stem + residual stages).')
    if getattr(backbone, 'deep_stem', False):
        stem: List[nn.Module] = [backbone.stem]
    else:
        stem = [backbone.conv1, getattr(backbone, backbone.norm1_name), backbone.relu]
    if hasattr(backbone, 'maxpool'):
        stem.append(backbone.maxpool)
    units = [BackboneUnit(0, 0, tuple(stem), True)]
    for stage, name in enumerate(backbone.res_layers, start=1):
        blocks = list(getattr(backbone, name))
        for index, block in enumerate(blocks):
            units.append(BackboneUnit(stage, index, (block, ), index == len(blocks) - 1))
    return units


def resolve_split(split: Union[str, SplitSpec, None]) -> List[Tuple[int, int]]:
    """A preset name or an explicit ``[[stage, block], ...]`` list as a list of tuples."""
    if split is None:
        return []
    if isinstance(split, str):
        if split not in INFOPRO_SPLITS:
            raise KeyError(f'Unknown InfoPro split {split!r}; presets: '
                           f'{", ".join(sorted(INFOPRO_SPLITS))}')
        split = INFOPRO_SPLITS[split]
    return [(int(stage), int(block)) for stage, block in split]


def partition_units(units: Sequence[BackboneUnit],
                    split: Sequence[Tuple[int, int]]) -> List[List[BackboneUnit]]:
    """Cut the units into ``len(split) + 1`` consecutive, non-empty local modules.

    Raises:
        ValueError: If an entry names no unit, entries are not in network order, or the last
            module would be empty.
    """
    index = {(u.stage, u.block): i for i, u in enumerate(units)}
    cuts = []
    for entry in split:
        if entry not in index:
            raise ValueError(f'Split entry {list(entry)} names no block of the backbone '
                             f'(stages 0..{units[-1].stage}).')
        cuts.append(index[entry] + 1)
    if cuts != sorted(set(cuts)):
        raise ValueError(f'Split entries must be distinct and in network order, got {split}.')
    if cuts and cuts[-1] >= len(units):
        raise ValueError('The last split entry ends the network: the last module would be empty.')
    bounds = [0] + cuts + [len(units)]
    return [list(units[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def unit_out_channels(unit: BackboneUnit) -> int:
    """Output channels of a unit: the size of its last normalisation layer.

    In mmpretrain / mmseg ResNet blocks the last registered norm layer is the final BN of the
    residual branch or of the projection shortcut; both have the block's output width.
    """
    norms = [m for m in unit.modules() if isinstance(m, (_BatchNorm, nn.GroupNorm))]
    if norms:
        last = norms[-1]
        return last.num_features if isinstance(last, _BatchNorm) else last.num_channels
    for layer in reversed(unit.layers):
        if hasattr(layer, 'out_channels'):
            return int(layer.out_channels)
    raise ValueError(f'Cannot infer the output channels of unit {unit.stage, unit.block}.')


def infopro_loss_weights(num_modules: int,
                         ixx_1: float,
                         ixy_1: float,
                         ixx_2: Optional[float] = None,
                         ixy_2: Optional[float] = None) -> List[Tuple[float, float]]:
    """Per-local-module ``(λ1, λ2)`` = (reconstruction, task) weights [official code].

    The weights of the first local module ``(ixx_1, ixy_1)`` and of module ``K - 2`` (the last
    local one, ``(ixx_2, ixy_2)``) are interpolated linearly with ``r_k = k / (K - 2)``.

    Args:
        num_modules: ``K``; the last module has no local loss, so ``K - 1`` pairs are returned.
        ixx_1, ixy_1: Weights of the first local module.
        ixx_2, ixy_2: Weights of the last local module (default: the first module's).

    Returns:
        ``[(λ1_k, λ2_k) for k in 0 .. K - 2]``.
    """
    ixx_2 = ixx_1 if ixx_2 is None else ixx_2
    ixy_2 = ixy_1 if ixy_2 is None else ixy_2
    weights = []
    for k in range(num_modules - 1):
        r = k / (num_modules - 2) if num_modules > 2 else 0.0
        weights.append((ixx_1 * (1 - r) + ixx_2 * r, ixy_1 * (1 - r) + ixy_2 * r))
    return weights
