# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus, Something-Something path: TSM backbones and a continuous patch policy.

Wang et al., ICCV 2021, arXiv 2105.03245; ``../shared/specs/adafocus.md`` §4.1 (the Sth-Sth code
path of the official ``blackfeather-wang/AdaFocus``, built on TSM). What the spec fixes:

* **Glancer** ``f_G``: MobileNetV2-TSM on ``T_G = 8`` full frames (``224 x 224``), map
  ``(B T_G, 1280, 7, 7)``; its linear head gives per-frame global logits.
* **Focuser** ``f_L``: ResNet-50-TSM (residual shift in every block, ``shift_div = 8``) on
  ``T_L = 12`` ``P x P`` patches, ``P`` in {144, 160, 176}; its linear head gives per-frame local
  logits. The glancer and the focuser see **different frames**: ``T_G`` and ``T_L`` independent
  TSN samplings of the video (AdaFocus issue #8), stacked as ``inputs (B, T_G + T_L, 3, H, W)``
  by :class:`dynamicnet.datasets.transforms.SampleFrameGroups`.
* **Policy** ``pi``: continuous, Gaussian with a sigmoid mean and standard deviation 0.25 (stage
  2/3 scripts); encoder Conv1x1(-> 64) + BN + ReLU + Linear + BN1d + ReLU
  (:func:`tsm_policy_encoder`) on the channel concatenation of the glancer maps of a division of
  frames.
* **Prediction**: ``mean_t(local logits) + mean_t(global logits)`` (TSN average consensus of
  each CNN).
* Stage 3 trains the classifier only (backbone lr 0, fc lr 5e-4).

What it leaves open, exposed as options [unconfirmed]: the frames are cut into ``num_divisions``
consecutive divisions (``T_G / D`` glancer and ``T_L / D`` focuser frames each, default ``D =
4``); the GRU policy takes one decision per division, whose patch corner is used by all focuser
frames of that division. Stage-2 reward (``'random'``): ``p[y]`` of the video prediction with the
policy's patches minus ``p[y]`` with uniformly random patches, given at the last decision (0
before; earlier decisions get it through the discount ``gamma``). Stage 1 and 3 train
``cls_loss`` on the summed prediction. Which heads "classifier" means in stage 3
(``stage3_trainable``, default the focuser's head).

TSM itself (Lin et al., ICCV 2019): :func:`temporal_shift` moves ``1/shift_div`` of the channels
one frame back and ``1/shift_div`` one frame forward (zero-padded at the ends) inside every video
of a ``(B T, C, H, W)`` batch; :func:`add_temporal_shift` inserts it, as forward pre-hooks, before
the first convolution of the residual branch of every ResNet block ("blockres") and of every
MobileNetV2 inverted residual block that has an identity shortcut and an expansion convolution
(the official TSM MobileNetV2). Hooks keep the parameter names of the plain backbones, so ImageNet
checkpoints load unchanged.

Training stages (``training_stage``; configs chained by ``load_from``):

* 0: ``init_target='global'`` trains ``f_G`` + its head on the ``T_G`` full frames, ``'local'``
  trains ``f_L`` + its head on the ``T_L`` full frames (TSM training: average consensus, CE).
* 1: ``f_L`` + its head on uniformly random patches; ``f_G`` and its head frozen (eval mode).
* 2: only the policy, by PPO (:class:`dynamicnet.models.utils.PPOPolicy`).
* 3: ``stage3_trainable`` on the patches of the frozen policy's mean action.

One exit (the whole video) in the multi-exit contract, so ``exit_costs`` gives the MACs per video.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from dynamicnet.registry import MODELS
from ..classifiers.gfnet import crop_patches
from ..classifiers.multi_exit import MultiExitClassifier
from ..utils.ppo import PPOPolicy, RolloutMemory
from .adafocus import StagedParts, glance_map_size

__all__ = ['temporal_shift', 'add_temporal_shift', 'tsm_policy_encoder', 'AdaFocusTSM']


def temporal_shift(x: Tensor, num_segments: int, shift_div: int = 8) -> Tensor:
    """TSM shift of a ``(B T, C, H, W)`` batch of ``B`` videos with ``T = num_segments`` frames.

    Channels ``[0, C / shift_div)`` of frame ``t`` take frame ``t + 1``'s values, channels
    ``[C / shift_div, 2 C / shift_div)`` frame ``t - 1``'s; missing neighbours are zeros; the rest
    is unchanged (official TSM ``TemporalShift.shift``).
    """
    nt, channels, height, width = x.shape
    if nt % num_segments:
        raise ValueError(f'batch {nt} is not a multiple of num_segments={num_segments}')
    x = x.view(nt // num_segments, num_segments, channels, height, width)
    fold = channels // shift_div
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]
    out[:, 1:, fold:2 * fold] = x[:, :-1, fold:2 * fold]
    out[:, :, 2 * fold:] = x[:, :, 2 * fold:]
    return out.view(nt, channels, height, width)


class _ShiftHook:
    """Forward pre-hook applying :func:`temporal_shift` to a module's input."""

    def __init__(self, num_segments: int, shift_div: int):
        self.num_segments = num_segments
        self.shift_div = shift_div

    def __call__(self, module: nn.Module, args: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        return (temporal_shift(args[0], self.num_segments, self.shift_div), ) + args[1:]


def add_temporal_shift(backbone: nn.Module, num_segments: int, shift_div: int = 8) -> int:
    """Turn an mmpretrain ResNet or MobileNetV2 into its TSM version, in place.

    ResNet: before ``conv1`` of every ``BasicBlock``/``Bottleneck`` (residual shift,
    "blockres"). MobileNetV2: before the expansion convolution of every inverted residual block
    with an identity shortcut. The backbone then expects ``(B * num_segments, C, H, W)`` inputs,
    frames of a video consecutive.

    Returns:
        The number of shifted convolutions.
    """
    from mmpretrain.models.backbones.mobilenet_v2 import InvertedResidual
    from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck

    hook = _ShiftHook(num_segments, shift_div)
    targets = []
    for module in backbone.modules():
        if isinstance(module, (BasicBlock, Bottleneck)):
            targets.append(module.conv1)
        elif isinstance(module, InvertedResidual) and module.use_res_connect \
                and len(module.conv) == 3:  # expand, depthwise, linear
            targets.append(module.conv[0])
    if not targets:
        raise TypeError(f'no ResNet or MobileNetV2 blocks in {type(backbone).__name__}')
    for conv in targets:
        conv.register_forward_pre_hook(hook)
    return len(targets)


def tsm_policy_encoder(channels: int, size: int, hidden_dim: int,
                       reduced_channels: int = 64) -> nn.Module:
    """Sth-Sth policy encoder ``(B, channels, size, size) -> (B, hidden_dim)``: Conv1x1(->
    ``reduced_channels``, no bias) + BN + ReLU + flatten + Linear + BN1d + ReLU."""
    return nn.Sequential(
        nn.Conv2d(channels, reduced_channels, 1, bias=False), nn.BatchNorm2d(reduced_channels),
        nn.ReLU(), nn.Flatten(), nn.Linear(reduced_channels * size * size, hidden_dim),
        nn.BatchNorm1d(hidden_dim), nn.ReLU())


@MODELS.register_module()
class AdaFocusTSM(StagedParts, MultiExitClassifier):
    """AdaFocus-TSM recognizer (Something-Something); see the module docstring.

    Args:
        global_backbone: ``f_G`` config (``'mmpretrain.MobileNetV2'``), made TSM over
            ``glance_segments`` frames.
        local_backbone: ``f_L`` config (``'mmpretrain.ResNet'``, depth 50), made TSM over
            ``focus_segments`` frames.
        num_classes: Classes (174).
        global_channels: Channels of ``f_G``'s last map (1280).
        local_channels: Channels of ``f_L``'s last map (2048).
        glance_segments: ``T_G`` (8).
        focus_segments: ``T_L`` (12).
        patch_size: ``P`` (144, 160, 176).
        input_size: Frame side (224).
        shift_div: TSM fold divisor (8); ``None`` = no shift (plain TSN backbones).
        num_divisions: ``D`` policy decisions per video; divides ``T_G`` and ``T_L`` [unconfirmed,
            default 4].
        policy: ``hidden_dim`` (default 512 [unconfirmed]), ``reduced_channels`` (64), ``std``
            (0.25), ``recurrent`` (True) and the PPO coefficients of :class:`PPOPolicy`.
        dropout: Dropout before each linear head (TSM: 0.5 [unconfirmed]).
        training_stage: 0, 1, 2 or 3.
        init_target: Stage 0 only: ``'global'`` or ``'local'``.
        stage3_trainable: Stage 3: trained parts among ``'local_head'``, ``'global_head'``,
            ``'local_backbone'`` (default ``('local_head', )``).
        **kwargs: ``loss``, ``data_preprocessor``, ``train_cfg``, ``test_cfg``, ``init_cfg`` of
            :class:`MultiExitClassifier`.
    """

    num_exits = 1
    PARTS = ('global_backbone', 'global_head', 'local_backbone', 'local_head', 'policy')
    STAGE1_PARTS = ('local_backbone', 'local_head')

    def __init__(self,
                 *,
                 global_backbone: dict,
                 local_backbone: dict,
                 num_classes: int,
                 global_channels: int = 1280,
                 local_channels: int = 2048,
                 glance_segments: int = 8,
                 focus_segments: int = 12,
                 patch_size: int = 144,
                 input_size: int = 224,
                 shift_div: Optional[int] = 8,
                 num_divisions: int = 4,
                 policy: Optional[dict] = None,
                 dropout: float = 0.5,
                 training_stage: int = 1,
                 init_target: str = 'global',
                 stage3_trainable: Sequence[str] = ('local_head', ),
                 **kwargs):
        super().__init__(**kwargs)
        self._set_stages(training_stage, init_target, stage3_trainable,
                         ('local_head', 'global_head', 'local_backbone'))
        if glance_segments % num_divisions or focus_segments % num_divisions:
            raise ValueError(f'num_divisions={num_divisions} must divide glance_segments='
                             f'{glance_segments} and focus_segments={focus_segments}')
        if not 0 < patch_size <= input_size:
            raise ValueError(f'patch_size {patch_size} must be in (0, input_size={input_size}]')
        self.glance_segments = glance_segments
        self.focus_segments = focus_segments
        self.patch_size = patch_size
        self.input_size = input_size
        self.num_divisions = num_divisions

        self.global_backbone = MODELS.build(global_backbone)
        self.local_backbone = MODELS.build(local_backbone)
        if shift_div is not None:
            add_temporal_shift(self.global_backbone, glance_segments, shift_div)
            add_temporal_shift(self.local_backbone, focus_segments, shift_div)
        self.global_head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(global_channels, num_classes))
        self.local_head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(local_channels, num_classes))

        policy = dict(policy or {})
        hidden_dim = policy.pop('hidden_dim', 512)
        reduced = policy.pop('reduced_channels', 64)
        std = policy.pop('std', 0.25)
        map_size = glance_map_size(self.global_backbone, input_size, glance_segments)
        per_division = glance_segments // num_divisions
        self.policy = PPOPolicy(
            tsm_policy_encoder(global_channels * per_division, map_size, hidden_dim, reduced),
            hidden_dim,
            action=dict(type='gaussian', action_dim=2, std=std),
            **policy)
        self.memory = RolloutMemory()
        self._mode = 'mean'
        self._apply_stage()

    # ---- computation --------------------------------------------------------------------------
    def _split(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """``(B, T_G + T_L, 3, H, W)`` -> glancer frames ``(B T_G, ...)``, focuser frames
        ``(B T_L, ...)``."""
        if inputs.dim() != 5 or inputs.size(1) != self.glance_segments + self.focus_segments:
            raise ValueError(f'expected (B, {self.glance_segments} + {self.focus_segments}, C, H, '
                             f'W) inputs, got {tuple(inputs.shape)}')
        return (inputs[:, :self.glance_segments].flatten(0, 1),
                inputs[:, self.glance_segments:].flatten(0, 1))

    def glance(self, frames: Tensor) -> Tuple[Tensor, Tensor]:
        """``f_G`` on ``(B T_G, 3, H, W)`` -> ``(maps (B T_G, C_G, h, w), consensus global
        logits (B, classes))``."""
        fmap = self.global_backbone(frames)[-1]
        logits = self.global_head(fmap.mean(dim=(2, 3)))
        return fmap, logits.view(-1, self.glance_segments, logits.size(-1)).mean(dim=1)

    def focus(self, frames: Tensor, corners: Optional[Tensor]) -> Tensor:
        """``f_L`` on the patches of ``(B T_L, 3, H, W)`` at ``corners`` ``(B, D, 2)`` (each
        used by the ``T_L / D`` frames of its division; ``None``: the full frames) ->
        consensus local logits ``(B, classes)``."""
        if corners is not None:
            per_division = self.focus_segments // self.num_divisions
            frames = crop_patches(frames, corners.repeat_interleave(per_division, 1).flatten(0, 1),
                                  self.patch_size)
        logits = self.local_head(self.local_backbone(frames)[-1].mean(dim=(2, 3)))
        return logits.view(-1, self.focus_segments, logits.size(-1)).mean(dim=1)

    def policy_states(self, fmap: Tensor) -> Tensor:
        """Glancer maps ``(B T_G, C, h, w)`` -> per-division states ``(D, B, T_G / D * C, h, w)``
        (the maps of a division's frames concatenated along channels)."""
        _, channels, height, width = fmap.shape
        states = fmap.detach().view(-1, self.num_divisions,
                                    self.glance_segments // self.num_divisions * channels, height,
                                    width)
        return states.transpose(0, 1)

    def choose(self, fmap: Tensor, mode: str) -> Tensor:
        """Patch corners ``(B, D, 2)`` in ``[0, 1]``: ``'random'`` (uniform), ``'mean'`` (test,
        stage 3) or ``'rollout'`` (behaviour policy samples, stored in :attr:`memory`)."""
        states = self.policy_states(fmap)
        if mode == 'random':
            return torch.rand(states.size(1), self.num_divisions, 2, device=fmap.device,
                              dtype=fmap.dtype)
        rollout = mode == 'rollout'
        hidden = self.policy.init_hidden(states.size(1), fmap)
        corners = []
        for state in states:
            action, hidden = self.policy.act(
                state,
                hidden,
                memory=self.memory if rollout else None,
                deterministic=not rollout,
                behaviour=rollout)
            corners.append(action)
        return torch.stack(corners, 1).to(fmap.dtype)

    def forward_stage(self, k: int, state: Tensor) -> Tuple[Tensor, Tensor]:
        """The whole video: ``mean_t f_L-logits(patches) + mean_t f_G-logits(frames)``."""
        glance_frames, focus_frames = self._split(state)
        fmap, global_logits = self.glance(glance_frames)
        corners = self.choose(fmap, self._mode)
        return global_logits + self.focus(focus_frames, corners), state

    # ---- losses and prediction ----------------------------------------------------------------
    def init_logits(self, inputs: Tensor) -> Tensor:
        """Stage-0 video logits of the ``init_target`` CNN on its full frames."""
        glance_frames, focus_frames = self._split(inputs)
        if self.init_target == 'global':
            return self.glance(glance_frames)[1]
        return self.focus(focus_frames, None)

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        target = self._targets(data_samples)
        if self.training_stage == 0:
            logits = self.init_logits(inputs)
            return dict(loss_init=self.loss_module(logits, target, avg_factor=logits.size(0)))
        if self.training_stage == 2:
            return self._ppo_loss(inputs, data_samples)
        self._mode = 'random' if self.training_stage == 1 else 'mean'
        logits, _ = self.forward_stage(0, inputs)
        return dict(loss_cls=self.loss_module(logits, target, avg_factor=logits.size(0)))

    def _ppo_loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        labels = torch.cat([s.gt_label for s in data_samples]).to(inputs.device)
        self.policy.sync_old()
        self.memory.clear()
        with torch.no_grad():
            glance_frames, focus_frames = self._split(inputs)
            fmap, global_logits = self.glance(glance_frames)
            true_probs = []
            for mode in ('rollout', 'random'):
                logits = global_logits + self.focus(focus_frames, self.choose(fmap, mode))
                true_probs.append(F.softmax(logits, dim=1).gather(1, labels[:, None])[:, 0])
            reward = true_probs[0] - true_probs[1]
        rewards = [torch.zeros_like(reward)] * (self.num_divisions - 1) + [reward]
        self.memory.rewards.extend(rewards)
        losses = self.policy.loss(self.memory)
        self.memory.clear()
        losses['reward'] = reward.mean()
        return losses

    def forward_exits(self, inputs: Tensor) -> List[Tensor]:
        """The video logits (one exit) with the policy's mean action."""
        self._mode = 'mean'
        return super().forward_exits(inputs)

    def exit_costs(self, input_shape=None) -> List[float]:
        """MACs per video ``[F]`` (glancer on ``T_G`` frames, policy, focuser on ``T_L``
        patches, heads) for one input ``(T_G + T_L, 3, H, W)``."""
        self._mode = 'mean'
        return super().exit_costs(input_shape)
