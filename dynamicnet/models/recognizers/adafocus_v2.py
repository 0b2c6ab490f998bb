# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocusV2: end-to-end AdaFocus with differentiable patch crops.

Wang et al., CVPR 2022, arXiv 2112.14238; ``../shared/specs/adafocus.md`` §8 (official
``LeapLabTHU/AdaFocusV2``, commit ``e97987c``, ``models/adafocus_v2.py``). The glancer, focuser and
multi-exit structure are those of :class:`dynamicnet.models.recognizers.AdaFocus`; what changes:

* **Differentiable crop** (:func:`differentiable_crop`): ``affine_grid`` with ``theta = [[P/W, 0,
  -1 + (x1 + x2)/W], [0, P/H, -1 + (y1 + y2)/H]]`` and bilinear ``grid_sample``; top-left
  ``a (H - P)`` without floor, ``a[:, 0]`` -> row. The classification loss reaches the policy
  through the crop, so no reinforcement learning and a single training stage.
* **Policy** (:class:`PolicySTN`): Conv1x1(C_G -> 64, no bias) + BN + Tanh + flatten +
  Linear(64 h w -> 2048) + BN1d + Tanh -> GRU(2048) -> Linear(2048 -> 2) -> Sigmoid, on the
  **detached** glancer map.
* **Classifier** (:class:`AdaFocusV2Head`): MLP(C_G + C_L -> 4096, BN1d, ReLU) -> running max over
  the frames so far -> a separate Dropout + Linear head per frame.
* **Loss**: the forward runs twice, with the policy's patches and with uniformly random ones;
  ``0.5 sum_{policy, random} [CE(f_C) + CE(glancer head) + CE(focuser head)]`` where each CE is
  averaged over the frames (per-frame supervision of both CNNs) [averaging over frames:
  unconfirmed].

Test time: policy patches only; every frame is an exit (AdaFocusV2+ conditional exit through the
shared early-exit evaluator).
"""
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from dynamicnet.registry import MODELS
from ..classifiers.multi_exit import MultiExitClassifier
from ..utils.ppo import CountedGRU
from .adafocus import glance_features, glance_map_size

__all__ = ['differentiable_crop', 'PolicySTN', 'AdaFocusV2Head', 'AdaFocusV2']


def differentiable_crop(images: Tensor, corners: Tensor, patch_size: int) -> Tensor:
    """Bilinear ``P x P`` crops at continuous top-left corners, differentiable in ``corners``.

    Args:
        images: ``(B, C, H, W)``.
        corners: ``(B, 2)`` in ``[0, 1]``: ``(row, column)`` of the top-left corner as fractions of
            ``(H - P, W - P)``.
        patch_size: ``P``.

    Returns:
        ``(B, C, P, P)``; for integer corners equal to the integer crop up to interpolation.
    """
    batch, channels, height, width = images.shape
    y1 = corners[:, 0] * (height - patch_size)
    x1 = corners[:, 1] * (width - patch_size)
    zero = torch.zeros_like(x1)
    theta = torch.stack([
        torch.stack([zero + patch_size / width, zero, -1 + (2 * x1 + patch_size) / width], 1),
        torch.stack([zero, zero + patch_size / height, -1 + (2 * y1 + patch_size) / height], 1),
    ], 1)
    grid = F.affine_grid(theta, [batch, channels, patch_size, patch_size], align_corners=False)
    return F.grid_sample(images, grid.to(images.dtype), mode='bilinear', align_corners=False)


class PolicySTN(nn.Module):
    """AdaFocusV2 patch policy: one GRU step per frame -> sigmoid corner ``(B, 2)``.

    Args:
        in_channels: Glancer map channels ``C_G``.
        map_size: Side ``h = w`` of the glancer map.
        hidden_dim: Encoder/GRU width (2048).
        reduced_channels: Width of the 1x1 conv (64).
    """

    def __init__(self, in_channels: int, map_size: int, hidden_dim: int = 2048,
                 reduced_channels: int = 64):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, reduced_channels, 1, bias=False),
            nn.BatchNorm2d(reduced_channels), nn.Tanh(), nn.Flatten(),
            nn.Linear(reduced_channels * map_size * map_size, hidden_dim),
            nn.BatchNorm1d(hidden_dim), nn.Tanh())
        self.gru = CountedGRU(hidden_dim, hidden_dim)
        self.fc = nn.Linear(hidden_dim, 2)

    def forward(self, fmap: Tensor, hidden: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """``fmap`` ``(B, C_G, h, w)`` (detached by the caller), ``hidden`` ``(B, H)`` or
        ``None`` -> ``(corners (B, 2), new hidden (B, H))``."""
        feat = self.encoder(fmap)
        if hidden is None:
            hidden = feat.new_zeros(feat.size(0), self.hidden_dim)
        out, _ = self.gru(feat.unsqueeze(0), hidden.unsqueeze(0).contiguous())
        return torch.sigmoid(self.fc(out[0])), out[0]


class AdaFocusV2Head(nn.Module):
    """MLP -> running max over frames -> per-frame Dropout + Linear.

    Args:
        in_channels: ``C_G + C_L``.
        hidden_dim: MLP width (4096).
        num_classes: Classes.
        num_segments: ``T`` (one linear head per frame).
        dropout: Dropout before each head [unconfirmed default 0.8, as AdaFocus V1].
    """

    def __init__(self, in_channels: int, hidden_dim: int, num_classes: int, num_segments: int,
                 dropout: float = 0.8):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU())
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden_dim, num_classes))
            for _ in range(num_segments))

    def forward(self, feat: Tensor, running_max: Optional[Tensor],
                t: int) -> Tuple[Tensor, Tensor]:
        """Frame ``t``: ``feat`` ``(B, in_channels)`` -> ``(logits (B, C), running max)``."""
        hidden = self.mlp(feat)
        if running_max is not None:
            hidden = torch.maximum(hidden, running_max)
        return self.heads[t](hidden), hidden


@MODELS.register_module()
class AdaFocusV2(MultiExitClassifier):
    """AdaFocusV2 recognizer (end-to-end training); see the module docstring.

    Args:
        global_backbone: Glancer config (e.g. ``'mmpretrain.MobileNetV2'``).
        local_backbone: Focuser config (e.g. ``'mmpretrain.ResNet'``, depth 50).
        num_classes: Classes.
        global_channels: Glancer map channels (1280).
        local_channels: Focuser map channels (2048).
        num_segments: ``T`` (16).
        patch_size: ``P`` (96, 128, 160).
        input_size: Frame side (224).
        glance_size: Glancer input side; ``None`` = the full frame.
        policy: ``hidden_dim`` (2048) and ``reduced_channels`` (64) of :class:`PolicySTN`.
        cls_head: ``hidden_dim`` (4096) and ``dropout`` of :class:`AdaFocusV2Head`.
        aux_weight: Weight of the per-frame glancer and focuser losses (1).
        **kwargs: ``loss``, ``data_preprocessor``, ``train_cfg``, ``test_cfg``, ``init_cfg``.
    """

    def __init__(self,
                 *,
                 global_backbone: dict,
                 local_backbone: dict,
                 num_classes: int,
                 global_channels: int = 1280,
                 local_channels: int = 2048,
                 num_segments: int = 16,
                 patch_size: int = 128,
                 input_size: int = 224,
                 glance_size: Optional[int] = None,
                 policy: Optional[dict] = None,
                 cls_head: Optional[dict] = None,
                 aux_weight: float = 1.0,
                 **kwargs):
        super().__init__(**kwargs)
        if not 0 < patch_size <= input_size:
            raise ValueError(f'patch_size {patch_size} must be in (0, input_size={input_size}]')
        self.num_exits = num_segments
        self.num_segments = num_segments
        self.patch_size = patch_size
        self.glance_size = glance_size
        self.aux_weight = aux_weight
        self.global_backbone = MODELS.build(global_backbone)
        self.local_backbone = MODELS.build(local_backbone)
        self.global_fc = nn.Linear(global_channels, num_classes)
        self.local_fc = nn.Linear(local_channels, num_classes)
        head = dict(cls_head or {})
        self.cls_head = AdaFocusV2Head(global_channels + local_channels,
                                       head.pop('hidden_dim', 4096), num_classes, num_segments,
                                       **head)
        map_size = glance_map_size(self.global_backbone, glance_size or input_size)
        self.policy = PolicySTN(global_channels, map_size, **(policy or {}))
        self._random = False

    def init_state(self, inputs: Tensor) -> Dict[str, Any]:
        if inputs.dim() != 5 or inputs.size(1) != self.num_segments:
            raise ValueError(f'expected (B, {self.num_segments}, C, H, W) inputs, '
                             f'got {tuple(inputs.shape)}')
        return dict(frames=inputs, pol_hidden=None, running_max=None)

    def forward_stage(self, k: int, state: Dict[str, Any]) -> Tuple[Tensor, Dict[str, Any]]:
        """Frame ``k``; the state also carries the frame's glancer and focuser head logits."""
        frame = state['frames'][:, k]
        fmap, glance_feat = glance_features(self.global_backbone, frame, self.glance_size)
        corners, pol_hidden = self.policy(fmap.detach(), state['pol_hidden'])
        if self._random:
            corners = torch.rand_like(corners)
        patch = differentiable_crop(frame, corners, self.patch_size)
        local_feat = self.local_backbone(patch)[-1].mean(dim=(2, 3))
        logits, running_max = self.cls_head(torch.cat([glance_feat, local_feat], 1),
                                            state['running_max'], k)
        return logits, dict(frames=state['frames'], pol_hidden=pol_hidden,
                            running_max=running_max, corners=corners,
                            global_logits=self.global_fc(glance_feat),
                            local_logits=self.local_fc(local_feat))

    def _run(self, inputs: Tensor, random: bool) -> Tuple[List[Tensor], List[Dict[str, Any]]]:
        self._random = random
        try:
            state = self.init_state(inputs)
            logits, states = [], []
            for k in range(self.num_exits):
                out, state = self.forward_stage(k, state)
                logits.append(out)
                states.append(state)
        finally:
            self._random = False
        return logits, states

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """``0.5 sum_{policy, random} [CE(f_C) + w (CE(glancer) + CE(focuser))]``, frame means."""
        target = self._targets(data_samples)
        losses: Dict[str, Tensor] = {}
        for name, random in (('policy', False), ('random', True)):
            logits, states = self._run(inputs, random)
            terms = dict(
                cls=logits,
                glance=[s['global_logits'] for s in states],
                focus=[s['local_logits'] for s in states])
            for term, outs in terms.items():
                weight = 0.5 * (1.0 if term == 'cls' else self.aux_weight) / len(outs)
                losses[f'loss_{term}_{name}'] = weight * sum(
                    self.loss_module(x, target, avg_factor=x.size(0)) for x in outs)
        return losses
