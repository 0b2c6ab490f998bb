# Copyright (c) dynamicnet contributors. All rights reserved.
"""The three-stage CIFAR ResNets of He et al. (ResNet-20/32/44/56/110/1202).

"Deep Residual Learning for Image Recognition", CVPR 2016, §4.2: a 3×3 stem with 16 channels and
three stages of ``n`` basic blocks with 16/32/64 channels at 32/16/8 px for a 32×32 input
(depth ``6n + 2``). mmpretrain's :class:`ResNet_CIFAR` only knows the ImageNet depths
(18/34/50/101/152 with four stages), so this subclass adds the ``6n + 2`` depths and the
three-stage defaults; everything else (blocks, ``ResLayer``, ``with_cp``, frozen stages) is
mmpretrain's. Shortcuts are mmpretrain's 1×1 conv + BN projections where the shape changes (He's
option B), as in the CIFAR ResNets of the InfoPro and ISDA official code.
"""
from typing import Sequence

from mmpretrain.models.backbones.resnet import BasicBlock
from mmpretrain.models.backbones.resnet_cifar import ResNet_CIFAR

from dynamicnet.registry import MODELS

__all__ = ['CIFARResNet']


@MODELS.register_module()
class CIFARResNet(ResNet_CIFAR):
    """He et al.'s CIFAR ResNet with depth ``6n + 2``.

    Input ``(N, in_channels, H, W)``; stage ``i`` outputs ``(N, 16·2^i, H/2^i, W/2^i)``.

    Args:
        depth: One of 20, 32, 44, 56, 110, 1202.
        num_stages: Number of residual stages (3 in the paper).
        stem_channels: Output channels of the 3×3 stem.
        base_channels: Channels of the first stage (doubled at each later stage).
        strides: Stride of the first block of each stage.
        dilations: Dilation of each stage.
        out_indices: Stages whose outputs are returned.
        **kwargs: Any other :class:`mmpretrain.models.ResNet` argument.
    """

    arch_settings = {
        20: (BasicBlock, (3, 3, 3)),
        32: (BasicBlock, (5, 5, 5)),
        44: (BasicBlock, (7, 7, 7)),
        56: (BasicBlock, (9, 9, 9)),
        110: (BasicBlock, (18, 18, 18)),
        1202: (BasicBlock, (200, 200, 200)),
    }

    def __init__(self,
                 depth: int,
                 num_stages: int = 3,
                 stem_channels: int = 16,
                 base_channels: int = 16,
                 strides: Sequence[int] = (1, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1),
                 out_indices: Sequence[int] = (2, ),
                 **kwargs) -> None:
        super().__init__(
            depth,
            num_stages=num_stages,
            stem_channels=stem_channels,
            base_channels=base_channels,
            strides=strides,
            dilations=dilations,
            out_indices=out_indices,
            **kwargs)
