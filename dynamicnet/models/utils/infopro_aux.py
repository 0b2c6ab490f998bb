# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro's auxiliary networks: reconstruction decoders, auxiliary classifier / projection heads.

From Wang et al., "Revisiting Locally Supervised Learning: an Alternative to End-to-end Training"
(ICLR 2021), official code ``blackfeather-wang/InfoPro-Pytorch`` (``../shared/specs/infopro.md``
§5.2). Every decoder returns **pre-sigmoid logits** of the reconstructed image: the loss applies
the sigmoid inside ``binary_cross_entropy_with_logits``, which equals the official
``BCELoss(sigmoid(z), x)`` and is allowed under ``torch.autocast`` (spec pitfall 2).
"""
import re
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from dynamicnet.registry import MODELS

__all__ = ['InfoProDecoder', 'InfoProProgressiveDecoder', 'InfoProAuxHead', 'cifar_aux_convs']

NormCfg = dict


@MODELS.register_module()
class InfoProDecoder(BaseModule):
    """CIFAR / SVHN / STL-10 decoder: upsample, Conv3×3 → BN → ReLU → Conv3×3.

    ``(N, C_h, h, w)`` → bilinear upsample (``align_corners=True``) to the image size
    ``(H, W)`` → Conv3×3(C_h → 12·widen, bias) → BN → ReLU → Conv3×3(12·widen → 3) →
    ``(N, 3, H, W)`` logits.

    Args:
        in_channels: ``C_h``.
        widen: Width multiplier of the hidden layer (official ``widen``, 1).
        out_channels: Image channels.
        norm_cfg: Norm layer config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 widen: int = 1,
                 out_channels: int = 3,
                 norm_cfg: NormCfg = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        hidden = 12 * widen
        self.conv1 = nn.Conv2d(in_channels, hidden, 3, padding=1, bias=True)
        self.norm = build_norm_layer(norm_cfg, hidden)[1]
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(hidden, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        """Reconstruct an image of spatial ``size`` from the features ``x``."""
        x = F.interpolate(x, size=size, mode='bilinear', align_corners=True)
        return self.conv2(self.relu(self.norm(self.conv1(x))))


@MODELS.register_module()
class InfoProProgressiveDecoder(BaseModule):
    """ImageNet / Cityscapes decoder: Conv1×1, then (×2 upsample, Conv3×3) steps.

    ImageNet (512×28×28 → 3×224×224): Conv1×1 512→128 → BN → ReLU → ×2 → Conv3×3 128→32 → BN →
    ReLU → ×2 → Conv3×3 32→12 → BN → ReLU → ×2 → Conv3×3 12→3. Cityscapes ``decoder_inter``
    (1024 channels at stride 8) is the same with SyncBN. Each upsample is bilinear ×2; if the
    result does not match the image size (inputs that are not a multiple of the stride), the
    logits are resized to it (the official ImageNet code asserts 224-px crops instead).

    Args:
        in_channels: Channels of the split feature.
        channels: Widths after the 1×1 conv and after each hidden 3×3 conv.
        out_channels: Image channels.
        norm_cfg: Norm layer config.
        align_corners: ``align_corners`` of the upsampling.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (128, 32, 12),
                 out_channels: int = 3,
                 norm_cfg: NormCfg = dict(type='BN'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.align_corners = align_corners
        self.reduce = ConvModule(in_channels, channels[0], 1, norm_cfg=norm_cfg)
        self.convs = nn.ModuleList(
            ConvModule(c_in, c_out, 3, padding=1, norm_cfg=norm_cfg)
            for c_in, c_out in zip(channels[:-1], channels[1:]))
        self.out_conv = nn.Conv2d(channels[-1], out_channels, 3, padding=1)

    def _up(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(
            x, scale_factor=2, mode='bilinear', align_corners=self.align_corners)

    def forward(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        """Reconstruct an image of spatial ``size`` from the features ``x``."""
        x = self.reduce(x)
        for conv in self.convs:
            x = conv(self._up(x))
        x = self.out_conv(self._up(x))
        if tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x, size=size, mode='bilinear', align_corners=self.align_corners)
        return x


def cifar_aux_convs(in_channels: int, num_convs: int,
                    full_width: int = 64) -> Tuple[Tuple[int, int, int], ...]:
    """Conv layers ``(out_channels, kernel, stride)`` of the CIFAR auxiliary heads.

    Official rule for ``1c``: a feature narrower than the last stage (16 or 32 channels) is
    halved in size and doubled in width by a stride-2 Conv3×3; a 64-channel feature keeps both
    (stride 1). ``2c`` applies the rule twice [unconfirmed for ``2c``: the ablation head].
    """
    convs = []
    channels = in_channels
    for _ in range(num_convs):
        if channels < full_width:
            channels, stride = channels * 2, 2
        else:
            stride = 1
        convs.append((channels, 3, stride))
    return tuple(convs)


@MODELS.register_module()
class InfoProAuxHead(BaseModule):
    """Auxiliary classifier / projection head ``(N, C_h, h, w)`` → ``(N, out_channels)``.

    Convs (each Conv (no bias) → BN → ReLU), global average pooling, then FC layers with ReLU
    between them. Two ways to describe it:

    - ``arch='<n>c<m>f'`` (official CIFAR names): ``n`` convs following
      :func:`cifar_aux_convs`, ``m`` FC layers with hidden width ``feat_dim``. ``1c2f`` (the
      default) is Conv3×3 → BN → ReLU → GAP → FC → ReLU → FC; ``0c1f`` is Greedy SL's GAP → FC.
    - explicit ``convs=((out, kernel, stride), ...)`` and ``fc_channels``; the ImageNet head is
      ``convs=((128, 1, 1), (256, 3, 2), (512, 3, 2), (2048, 1, 1)), fc_channels=()``.

    Args:
        in_channels: ``C_h``.
        out_channels: ``num_classes`` (softmax) or the projection width (128, contrast).
        arch: Official CIFAR arch name; overrides ``convs`` / ``fc_channels``.
        feat_dim: Hidden FC width for ``arch`` (official ``feature_dim``, 128).
        convs: Explicit conv layers.
        fc_channels: Explicit hidden FC widths.
        norm_cfg: Norm layer config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 arch: Optional[str] = '1c2f',
                 feat_dim: int = 128,
                 convs: Sequence[Sequence[int]] = (),
                 fc_channels: Sequence[int] = (),
                 norm_cfg: NormCfg = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if arch is not None:
            match = re.fullmatch(r'(\d)c(\d)f', arch)
            if match is None or int(match.group(2)) < 1:
                raise ValueError(f'arch must look like "1c2f", got {arch!r}')
            convs = cifar_aux_convs(in_channels, int(match.group(1)))
            fc_channels = (feat_dim, ) * (int(match.group(2)) - 1)
        layers = []
        channels = in_channels
        for out, kernel, stride in convs:
            layers.append(
                ConvModule(channels, out, kernel, stride=stride, padding=kernel // 2,
                           norm_cfg=norm_cfg))
            channels = out
        self.convs = nn.Sequential(*layers)
        fcs = []
        for width in fc_channels:
            fcs += [nn.Linear(channels, width), nn.ReLU(inplace=True)]
            channels = width
        fcs.append(nn.Linear(channels, out_channels))
        self.fcs = nn.Sequential(*fcs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(x)
        return self.fcs(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
