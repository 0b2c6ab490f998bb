# Copyright (c) dynamicnet contributors. All rights reserved.
"""CondenseNetV2 backbone (Yang et al., "CondenseNet V2: Sparse Feature Reactivation for Deep
Networks", CVPR 2021, arXiv 2104.04382; spec ``../shared/specs/condensenetv2.md``).

One class covers the training-time network (learned group convolutions and sparse feature
reactivation with masks that condense during training) and the deployable network
(``deploy=True`` or :meth:`CondenseNetV2.switch_to_deploy`: grouped convolutions, shuffles and a
channel scatter-add, no masks), in the style of mmpretrain's RepVGG.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from dynamicnet.models.utils.condensenetv2_layers import (CONDENSING_LAYERS, AvgPool2x2,
                                                          CondensedLGC, CondensedSFR,
                                                          CondenseSELayer, LearnedGroupConv,
                                                          PreActConv, SparseFeatureReactivation)
from dynamicnet.registry import MODELS

__all__ = ['CondenseNetV2', 'CondenseNetV2Layer']


class CondenseNetV2Layer(BaseModule):
    """Dense layer with SFR (spec §2).

    ``X (c_in) -> LGC 1x1 (c_in -> b*k) -> BN-act-group 3x3 (b*k -> k) [-> SE] = Y``;
    output ``concat([X + SFR(Y), Y])`` with ``c_in + k`` channels.

    Args:
        in_channels: c_in.
        growth_rate: k.
        bottleneck: b, the LGC width factor.
        groups: G of the LGC, the 3x3 conv and the SFR (all released configs use one value).
        condense_factor: C of the LGC and the SFR.
        act_cfg: Activation of every BN-act pair of the layer.
        use_se: SE (reduction 1) on the k new channels.
        deploy: Build the converted layers instead of the training-time ones.
        norm_fused: With ``deploy``, build the layer after :meth:`fuse_norm` (the 3x3 block's BN
            folded into the condensed LGC).
        with_cp: Gradient checkpointing of the layer (saves the dense-concatenation memory).
    """

    def __init__(self,
                 in_channels: int,
                 growth_rate: int,
                 bottleneck: int,
                 groups: int,
                 condense_factor: int,
                 act_cfg: Dict,
                 use_se: bool,
                 deploy: bool = False,
                 norm_fused: bool = False,
                 with_cp: bool = False) -> None:
        super().__init__()
        if norm_fused and not deploy:
            raise ValueError('norm_fused needs deploy=True')
        mid = bottleneck * growth_rate
        if deploy:
            self.conv_1 = CondensedLGC(in_channels, mid, groups, condense_factor, act_cfg,
                                       with_bias=norm_fused)
        else:
            self.conv_1 = LearnedGroupConv(in_channels, mid, groups, condense_factor, act_cfg)
        self.conv_2 = PreActConv(mid, growth_rate, 3, groups, act_cfg)
        if norm_fused:
            self.conv_2.norm = nn.Identity()
        self.se = CondenseSELayer(growth_rate, reduction=1) if use_se else None
        sfr = CondensedSFR if deploy else SparseFeatureReactivation
        self.sfr = sfr(growth_rate, in_channels, groups, condense_factor, act_cfg)
        self.with_cp = with_cp

    def _forward(self, x: Tensor) -> Tensor:
        new = self.conv_2(self.conv_1(x))
        if self.se is not None:
            new = self.se(new)
        if isinstance(self.sfr, CondensedSFR):
            return self.sfr.reactivate_and_concat(x, new)
        # Reactivation is an element-wise addition onto the reused features.
        return torch.cat([x + self.sfr(new), new], dim=1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, c_in, H, W) -> (B, c_in + k, H, W)."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)

    def forward_channel_major(self, buffer: Tensor, channels: int) -> int:
        """Deployable layer on a channel-major dense-block buffer, in place (no autograd).

        Args:
            buffer: (C_block, B, H, W) contiguous; rows ``:channels`` hold the layer input.
            channels: c_in.

        Returns:
            ``channels + k``: rows ``:channels`` now hold ``X + SFR(Y)``, the next k rows ``Y``.
        """
        x = buffer[:channels]
        new = self.conv_2(self.conv_1.forward_channel_major(x))
        if self.se is not None:
            new = self.se(new)
        self.sfr.reactivate_channel_major(x, new)
        growth = new.shape[1]
        buffer[channels:channels + growth].copy_(new.transpose(0, 1))
        return channels + growth

    def switch_to_deploy(self, name: str = 'layer') -> None:
        """Replace LGC and SFR by their condensed forms (``ValueError`` if not condensed)."""
        if isinstance(self.conv_1, LearnedGroupConv):
            self.conv_1 = CondensedLGC.from_training(self.conv_1, f'{name}.conv_1')
        if isinstance(self.sfr, SparseFeatureReactivation):
            self.sfr = CondensedSFR.from_training(self.sfr, f'{name}.sfr')

    def fuse_norm(self) -> None:
        """Fold the 3x3 block's BN into the condensed LGC before it (eval-mode statistics)."""
        if not isinstance(self.conv_1, CondensedLGC):
            raise ValueError('fuse_norm needs the converted layer (switch_to_deploy first)')
        if not isinstance(self.conv_2.norm, nn.Identity):
            self.conv_1.fuse_norm(self.conv_2.norm)
            self.conv_2.norm = nn.Identity()


@MODELS.register_module()
class CondenseNetV2(BaseBackbone):
    """CondenseNetV2 backbone for classification (mmpretrain) and detection (mmdet).

    Structure (spec §4): stem Conv3x3(3 -> 2*k_1, no bias, no BN) -> dense blocks separated by
    AvgPool2d(2, 2) transitions (no compression, channels keep growing) -> BN -> ReLU after the
    last block. ReLU is used in blocks before ``hs_start_block``, h-swish from it on; SE inside
    layers from ``se_start_block`` on. The classifier part of the official network (pool, SE with
    reduction 16, FC -> h-swish -> FC) is :class:`dynamicnet.models.heads.CondenseNetV2ClsHead`.

    Channels after each block: A 24/32/96/288/800, B 24/72/216/600/1176, C 48/144/400/1040/2064;
    strides of the block outputs at ImageNet settings: 2/4/8/16/32, so ``out_indices=(1, 2, 3,
    4)`` feeds an FPN with strides 4-32.

    Condensation (spec §3) is driven by :meth:`set_progress` (the training hook
    :class:`dynamicnet.engine.hooks.CondensationHook` calls it before every iteration); the state
    lives in buffers of each layer of this instance.

    Args:
        arch: ``'a'``, ``'b'``, ``'c'`` (ImageNet), ``'cifar-110'``, ``'cifar-146'`` or a dict with
            keys ``stages``, ``growth``, ``groups``, ``condense_factor``, ``stem_stride``.
            The CIFAR definitions were never released (official issue #9): they follow
            CondenseNet's depth convention 6N + 2 (N = 18, 24), growth 8-16-32, G = C = 8
            [unconfirmed, spec §4].
        in_channels: Image channels.
        bottleneck: LGC width factor b (4 in every released config).
        hs_start_block: First (0-based) block that uses h-swish.
        se_start_block: First (0-based) block with SE inside its layers.
        out_indices: Blocks whose outputs are returned (negative indices allowed). The last block's
            output is taken after its BN and ReLU.
        frozen_stages: Freeze the stem and blocks ``0..frozen_stages-1`` (-1: none).
        norm_eval: Keep BN layers in eval mode during training (detection fine-tuning).
        deploy: Build the converted network (load converted checkpoints into it).
        channel_major: Inference layout of the converted network. With ``deploy`` and autograd
            off (``torch.no_grad`` / ``torch.inference_mode``), each dense block is computed in
            one preallocated channel-major (C, B, H, W) buffer: no concatenation copies, the
            gathers and the SFR scatter-add move whole (B, H, W) channels and each grouped 1x1
            product is one matrix product per group over all B * H * W pixels (see
            :meth:`forward`). Same weights and result (up to float summation order); ``False``
            runs the layers one by one on (B, C, H, W) tensors, as with autograd.
        norm_fused: With ``deploy``, build the network after :meth:`fuse_norm` (to load
            checkpoints saved from it).
        with_cp: Gradient checkpointing of each dense layer.
        init_cfg: mmengine init config; by default the official initialisation (Kaiming-normal
            convs, BN 1/0, SFR BN 0/0).
    """

    arch_settings = {
        'a': dict(stages=(1, 1, 4, 6, 8), growth=(8, 8, 16, 32, 64), groups=8,
                  condense_factor=8, stem_stride=2),
        'b': dict(stages=(2, 4, 6, 8, 6), growth=(6, 12, 24, 48, 96), groups=6,
                  condense_factor=6, stem_stride=2),
        'c': dict(stages=(4, 6, 8, 10, 8), growth=(8, 16, 32, 64, 128), groups=8,
                  condense_factor=8, stem_stride=2),
        'cifar-110': dict(stages=(18, 18, 18), growth=(8, 16, 32), groups=8, condense_factor=8,
                          stem_stride=1),
        'cifar-146': dict(stages=(24, 24, 24), growth=(8, 16, 32), groups=8, condense_factor=8,
                          stem_stride=1),
    }

    def __init__(self,
                 arch: Union[str, Dict] = 'a',
                 in_channels: int = 3,
                 bottleneck: int = 4,
                 hs_start_block: int = 2,
                 se_start_block: int = 3,
                 out_indices: Sequence[int] = (-1, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 deploy: bool = False,
                 channel_major: bool = True,
                 norm_fused: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(f'arch={arch!r} is not one of {sorted(self.arch_settings)}')
            arch = self.arch_settings[arch]
        missing = {'stages', 'growth', 'groups', 'condense_factor', 'stem_stride'} - set(arch)
        if missing:
            raise KeyError(f'custom arch misses {sorted(missing)}')
        self.arch = dict(arch)
        self.stage_depths = tuple(arch['stages'])
        self.growth = tuple(arch['growth'])
        if len(self.stage_depths) != len(self.growth):
            raise ValueError('stages and growth must have the same length')
        self.groups = arch['groups']
        self.condense_factor = arch['condense_factor']
        num_stages = len(self.stage_depths)
        self.out_indices = tuple(i % num_stages for i in out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.deploy = deploy
        self.channel_major = channel_major
        self.norm_fused = norm_fused

        channels = 2 * self.growth[0]
        self.stem = nn.Conv2d(in_channels, channels, 3, arch['stem_stride'], 1, bias=False)
        self.stages = nn.ModuleList()
        self.out_channels: List[int] = []
        for i, (depth, growth) in enumerate(zip(self.stage_depths, self.growth)):
            act_cfg = dict(type='HSwish') if i >= hs_start_block else dict(type='ReLU')
            layers = []
            for _ in range(depth):
                layers.append(
                    CondenseNetV2Layer(channels, growth, bottleneck, self.groups,
                                       self.condense_factor, act_cfg, i >= se_start_block,
                                       deploy, norm_fused, with_cp))
                channels += growth
            self.stages.append(nn.Sequential(*layers))
            self.out_channels.append(channels)
        self.transition = AvgPool2x2()
        self.norm_last = nn.BatchNorm2d(channels)
        self.act_last = nn.ReLU(inplace=True)
        self._freeze_stages()

    def init_weights(self) -> None:
        """Official initialisation unless a pretrained ``init_cfg`` is given."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, _BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, SparseFeatureReactivation):
                m.reset_gamma()
            elif isinstance(m, CondensedSFR):
                nn.init.zeros_(m.norm.weight)
                nn.init.zeros_(m.norm.bias)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(B, 3, H, W) -> tuple of the selected block outputs (B, C_i, H / s_i, W / s_i)."""
        if self.deploy and self.channel_major and not torch.is_grad_enabled():
            return self._forward_channel_major(x)
        x = self.stem(x)
        outs = []
        last = len(self.stages) - 1
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.transition(x)
            x = stage(x)
            if i == last:
                x = self.act_last(self.norm_last(x))
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _forward_channel_major(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Inference of the converted network with one channel-major buffer per dense block.

        On CPU the (B, C, H, W) layout makes every channel gather, scatter-add and concatenation
        move B separate runs of H * W values and splits each grouped 1x1 product into B * G
        small ones; in a (C, B, H, W) buffer a channel is one contiguous run. Each layer reads
        its input rows, adds its reactivation to them in place and writes its k new channels
        after them (:meth:`CondenseNetV2Layer.forward_channel_major`); only the 3x3 group
        convolution and SE run on (B, C, H, W) tensors of the layer's own k or 4k channels.
        Every module is still called (hooks and MAC counting see the same modules and sizes).
        """
        x = self.stem(x).transpose(0, 1)
        outs = []
        last = len(self.stages) - 1
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.transition(x)  # pools each (H, W) plane, any leading dimensions
            channels = x.shape[0]
            buffer = x.new_empty(self.out_channels[i], *x.shape[1:])
            buffer[:channels].copy_(x)
            for layer in stage:
                channels = layer.forward_channel_major(buffer, channels)
            x = buffer
            if i == last:
                c, b, h, w = x.shape
                x = self.act_last(self.norm_last(x.view(1, c, b * h, w))).view(c, b, h, w)
            if i in self.out_indices:
                outs.append(x.transpose(0, 1).contiguous())
        return tuple(outs)

    def condensing_layers(self) -> List[Tuple[str, nn.Module]]:
        """Named LGC and SFR layers of the training-time network."""
        return [(n, m) for n, m in self.named_modules() if isinstance(m, CONDENSING_LAYERS)]

    @torch.no_grad()
    def set_progress(self, progress: float) -> int:
        """Apply every condensation event due at training progress ``progress`` in [0, 1].

        Returns:
            The number of events applied by this call (0 when nothing changed).
        """
        if not 0.0 <= progress <= 1.0 or math.isnan(progress):
            raise ValueError(f'progress must be in [0, 1], got {progress}')
        events = [m.set_progress(progress) for _, m in self.condensing_layers()]
        return max(events, default=0)

    def is_fully_condensed(self) -> bool:
        """Whether every LGC and SFR keeps exactly 1/C of its candidates per group."""
        return all(m.is_fully_condensed() for _, m in self.condensing_layers())

    def switch_to_deploy(self) -> None:
        """Convert in place to the deployable network (spec §6).

        Raises:
            ValueError: If a layer is not fully condensed (the official code would silently
                build a wrong model, pitfall 2).
        """
        for name, module in self.named_modules():
            if isinstance(module, CondenseNetV2Layer):
                module.switch_to_deploy(name)
        self.deploy = True

    def fuse_norm(self) -> None:
        """Fold the BN of every 3x3 block into the condensed LGC before it, in place.

        A deploy-time fusion in the style of mmcv's ``fuse_conv_bn``, optional after
        :meth:`switch_to_deploy` or after loading a converted (dynamicnet or official)
        checkpoint: the BN between each LGC and its 3x3 group convolution uses fixed statistics
        in eval mode, so it becomes a scale of the LGC's weight rows and a bias added during the
        channel shuffle, one pass over the layer's 4k-channel bottleneck fewer. The result is the
        same up to float rounding; the BN layers are gone, so the fused network is for inference
        (its checkpoints load into ``CondenseNetV2(deploy=True, norm_fused=True)``).
        """
        for module in self.modules():
            if isinstance(module, CondenseNetV2Layer):
                module.fuse_norm()
        self.norm_fused = True

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.stem] + list(self.stages[:self.frozen_stages])
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'CondenseNetV2':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
