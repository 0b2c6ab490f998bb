# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus: Adaptive Focus for Efficient Video Recognition.

Wang et al., ICCV 2021, arXiv 2105.03245;
``../shared/specs/adafocus.md`` (ActivityNet / FCVID / Mini-Kinetics path of the official
``blackfeather-wang/AdaFocus``, commit ``8c0f8d2``). Built on the multi-exit contract
(:class:`dynamicnet.models.classifiers.MultiExitClassifier`): frame ``t`` of the ``T`` sampled
frames is stage ``t`` and every frame is an exit, so AdaFocus+ (temporal early exit) is the
contract's ``early_exit`` and :class:`dynamicnet.evaluation.EarlyExitMetric`.

Per frame ``t`` (inputs ``(B, T, 3, H, W)``, ``H = W = 224``):

* **Glancer** ``f_G`` (MobileNetV2) on the full frame (``glance_size=None``: the released setup
  resizes 224 to 224, an identity) -> map ``(B, 1280, 7, 7)`` and its average ``(B, 1280)``.
* **Policy** ``pi`` (:class:`dynamicnet.models.utils.PPOPolicy`, categorical): Conv1x1(1280 -> 32,
  no bias) -> ReLU -> Linear(32 * 49 -> 1024) -> ReLU -> GRU(1024) -> softmax over the 7 x 7 grid
  of patch corners, reading the **detached** glancer map. Action ``k`` -> normalised top-left
  ``(floor(k / 7) / 6, (k mod 7) / 6)`` (row, column) (:func:`action_grid`); the crop is
  ``floor(a (224 - P))`` px per axis (:func:`dynamicnet.models.classifiers.gfnet.crop_patches`).
* **Focuser** ``f_L`` (ResNet-50) on the ``P x P`` crop -> ``(B, 2048)`` pooled.
* **Classifier** ``f_C`` (:class:`AdaFocusGRUHead`): GRU(1280 + 2048 -> 1024) step, Dropout,
  Linear(1024 -> classes); the video prediction is the last frame's logits.

Training stages (``training_stage``; configs chained by ``load_from``):

* 0 (initialisation): ``init_target='global'`` trains ``f_G`` + ``Dropout(0.2) + Linear``, or
  ``'local'`` trains ``f_L`` + ``Linear`` on the full frames; video logits = mean over frames.
* 1: ``f_L`` + ``f_C`` on random patches (``random_patch``); ``f_G`` frozen in eval mode.
* 2: only the policy, by PPO (behaviour copy samples, reward ``random``: ``r_t = p_t[y] -
  p~_t[y]`` with ``p~`` from a random patch through ``f_C`` from the **same, un-advanced** GRU
  state); everything else in eval mode.
* 3: ``stage3_trainable`` (released code: ``('cls_head', )``; paper: ``('cls_head',
  'local_backbone')``) on the patches of the frozen policy's argmax.

Losses: cross-entropy at every frame, averaged over frames (``exit_weights = 1/T``).
"""
import math
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import Tensor

from dynamicnet.registry import MODELS
from ..classifiers.gfnet import crop_patches
from ..classifiers.multi_exit import MultiExitClassifier
from ..utils.ppo import CountedGRU, PPOPolicy, RolloutMemory, policy_state_encoder

__all__ = [
    'glance_features', 'glance_map_size', 'action_grid', 'adafocus_rewards', 'AdaFocusGRUHead',
    'StagedParts', 'AdaFocus'
]

REWARDS = ('random', 'padding', 'prev', 'conf')


def glance_features(backbone: nn.Module, frame: Tensor,
                    glance_size: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    """Glancer on a frame ``(B, 3, H, W)`` (bilinearly resized to ``glance_size`` if given).

    Returns:
        ``(last map (B, C_G, h, w), its spatial mean (B, C_G))``.
    """
    if glance_size is not None and glance_size != frame.size(-1):
        frame = F.interpolate(
            frame, size=(glance_size, glance_size), mode='bilinear', align_corners=False)
    fmap = backbone(frame)[-1]
    return fmap, fmap.mean(dim=(2, 3))


@torch.no_grad()
def glance_map_size(backbone: nn.Module, side: int, num_frames: int = 1) -> int:
    """Side ``h = w`` of the glancer's last map for ``side x side`` frames, which sizes the
    policy's linear layer.

    Probed in eval mode (BN statistics untouched) on ``num_frames`` zero frames: a TSM backbone
    needs a whole video.
    """
    was_training = backbone.training
    backbone.eval()
    fmap = backbone(torch.zeros(num_frames, 3, side, side))[-1]
    backbone.train(was_training)
    if fmap.size(2) != fmap.size(3):
        raise ValueError(f'non-square glancer map {tuple(fmap.shape)}')
    return fmap.size(2)


def action_grid(num_actions: int) -> Tensor:
    """Normalised top-left corners of the discrete patch grid.

    Args:
        num_actions: ``n * n`` (16, 25, 36, 49, 64).

    Returns:
        ``(num_actions, 2)`` float: row ``k`` is ``(floor(k / n) / (n - 1), (k mod n) / (n - 1))``
        as ``(row, column)`` fractions of ``(H - P, W - P)``, borders 0 and 1 included.
    """
    side = int(round(math.sqrt(num_actions)))
    if side * side != num_actions or side < 2:
        raise ValueError(f'num_actions must be a square >= 4, got {num_actions}')
    k = torch.arange(num_actions)
    return torch.stack([(k // side).float(), (k % side).float()], dim=1) / (side - 1)


def adafocus_rewards(true_probs: Tensor,
                     baseline_probs: Optional[Tensor] = None,
                     kind: str = 'random') -> Tensor:
    """Per-frame rewards of the patch policy.

    Args:
        true_probs: ``(T, B)`` ground-truth-class softmax ``p_t[y]`` of ``f_C`` after frame ``t``
            with the policy's patch.
        baseline_probs: ``(T, B)`` the same with the baseline patch (``'random'``: a uniformly
            random patch; ``'padding'``: zero local features), from the un-advanced GRU state.
        kind: ``'random'``/``'padding'`` (``p_t - p~_t``), ``'prev'`` (``p_t - p_{t-1}``, with
            ``p_{-1} = 0`` [unconfirmed]) or ``'conf'`` (``p_t``).

    Returns:
        ``(T, B)`` rewards.
    """
    if kind in ('random', 'padding'):
        if baseline_probs is None:
            raise ValueError(f'reward {kind!r} needs baseline_probs')
        return true_probs - baseline_probs
    if kind == 'prev':
        return true_probs - torch.cat([torch.zeros_like(true_probs[:1]), true_probs[:-1]])
    if kind == 'conf':
        return true_probs.clone()
    raise ValueError(f'reward must be one of {REWARDS}, got {kind!r}')


class AdaFocusGRUHead(nn.Module):
    """``f_C``: one GRU step over ``[glance || local]`` features, Dropout, Linear.

    Stepping frame by frame equals the official ``GRU(batch_first=True)`` over the whole
    sequence; the step form lets a baseline patch be evaluated from the same hidden state
    without advancing it (``test_single_forward`` of the official code).

    Args:
        in_channels: ``1280 + 2048``.
        hidden_dim: GRU width (1024).
        num_classes: Classes.
        dropout: Dropout before the linear layer (0.8 in every official command).
    """

    def __init__(self, in_channels: int, hidden_dim: int, num_classes: int, dropout: float = 0.8):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.gru = CountedGRU(in_channels, hidden_dim, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_dim, num_classes)

    def forward(self, feat: Tensor, hidden: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """``feat`` ``(B, in_channels)``, ``hidden`` ``(B, hidden_dim)`` or ``None`` (zeros)
        -> ``(logits (B, classes), new hidden (B, hidden_dim))``; ``hidden`` is not modified."""
        if hidden is None:
            hidden = feat.new_zeros(feat.size(0), self.hidden_dim)
        out, _ = self.gru(feat.unsqueeze(1), hidden.unsqueeze(0).contiguous())
        out = out[:, 0]
        return self.fc(self.dropout(out)), out


class StagedParts:
    """Training stages of the AdaFocus recognizers.

    The sub-modules named in ``PARTS`` that :meth:`trainable_parts` does not return get
    ``requires_grad=False`` and stay in eval mode (BN statistics, dropout) while training; the
    policy's behaviour copy never trains. Subclasses call :meth:`_set_stages` before and
    :meth:`_apply_stage` after building their parts. In stage 0 (``training_stage == 0``) the
    prediction is that of :meth:`init_logits`.
    """

    PARTS: Tuple[str, ...] = ()
    # what stage 1 trains on random patches: the focuser and the classifier that reads it
    STAGE1_PARTS: Tuple[str, ...] = ()

    def trainable_parts(self) -> Tuple[str, ...]:
        """Names of the sub-modules trained in the current stage (the rest is frozen, eval):
        0: the ``init_target`` CNN and its head, 1: ``STAGE1_PARTS``, 2: the policy, 3:
        ``stage3_trainable``."""
        if self.training_stage == 0:
            return (f'{self.init_target}_backbone', f'{self.init_target}_head')
        if self.training_stage == 1:
            return self.STAGE1_PARTS
        if self.training_stage == 2:
            return ('policy', )
        return self.stage3_trainable

    @abstractmethod
    def init_logits(self, inputs: Tensor) -> Tensor:
        """Stage-0 video logits ``(B, classes)`` of the CNN being initialised."""

    def _set_stages(self, training_stage: int, init_target: str, stage3_trainable: Sequence[str],
                    stage3_choices: Sequence[str]) -> None:
        """Check and store the stage arguments; ``stage3_trainable`` must be a non-empty subset
        of ``stage3_choices``."""
        if training_stage not in (0, 1, 2, 3):
            raise ValueError(f'training_stage must be 0, 1, 2 or 3, got {training_stage}')
        if init_target not in ('global', 'local'):
            raise ValueError(f'init_target must be "global" or "local", got {init_target!r}')
        if not stage3_trainable or not set(stage3_trainable) <= set(stage3_choices):
            raise ValueError(f'stage3_trainable must be a non-empty subset of '
                             f'{sorted(stage3_choices)}, got {stage3_trainable}')
        self.training_stage = training_stage
        self.init_target = init_target
        self.stage3_trainable = tuple(stage3_trainable)

    def _frozen_modules(self) -> List[nn.Module]:
        return [getattr(self, p) for p in self.PARTS if p not in self.trainable_parts()]

    def _apply_stage(self) -> None:
        self.requires_grad_(True)
        for module in self._frozen_modules():
            module.requires_grad_(False)
        self.policy.policy_old.requires_grad_(False)

    def train(self, mode: bool = True):
        """Frozen parts stay in eval mode while training."""
        super().train(mode)
        if mode:
            for module in self._frozen_modules():
                module.eval()
        return self

    def predict(self, inputs: Tensor, data_samples=None) -> List[DataSample]:
        self.memory.clear()
        if self.training_stage != 0:
            return super().predict(inputs, data_samples)
        scores = F.softmax(self.init_logits(inputs), dim=1)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(inputs.size(0))]
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score).set_pred_label(score.argmax(0, keepdim=True))
        return data_samples


@MODELS.register_module()
class AdaFocus(StagedParts, MultiExitClassifier):
    """AdaFocus recognizer; see the module docstring.

    Args:
        global_backbone: ``f_G`` config (prefixed type, e.g. ``'mmpretrain.MobileNetV2'``); its
            last output is the map the policy reads.
        local_backbone: ``f_L`` config (e.g. ``'mmpretrain.ResNet'``, depth 50).
        global_channels: Channels of ``f_G``'s map (1280).
        local_channels: Channels of ``f_L``'s map (2048).
        num_classes: Classes.
        num_segments: ``T`` frames per video (16).
        patch_size: ``P`` (96, 128, 160, 192).
        input_size: Frame side ``H = W`` (224).
        glance_size: Side the frame is resized to for ``f_G``; ``None`` = the full frame
            (released ActivityNet setup).
        policy: ``num_actions`` (49), ``hidden_dim`` (1024) and the PPO coefficients of
            :class:`PPOPolicy` (``gamma`` 0.7, ``clip_eps``, ``value_coef``, ``entropy_coef``).
        cls_head: ``hidden_dim`` (1024) and ``dropout`` (0.8) of :class:`AdaFocusGRUHead`.
        training_stage: 0, 1, 2 or 3.
        init_target: Stage 0 only: ``'global'`` or ``'local'``.
        init_dropout: Dropout of the stage-0 glancer head (0.2).
        stage3_trainable: Stage 3 only: names of the trained parts among ``'cls_head'`` and
            ``'local_backbone'``.
        reward: ``'random'`` (default), ``'padding'``, ``'prev'`` or ``'conf'``.
        random_patch: How a random patch is drawn (stage 1 and the reward baseline):
            ``'continuous'`` (``a ~ U[0, 1)^2``, every integer corner) or ``'grid'`` (a uniform
            grid action) [unconfirmed; default ``'continuous'``].
        **kwargs: ``loss``, ``data_preprocessor``, ``train_cfg``, ``test_cfg``, ``init_cfg`` of
            :class:`MultiExitClassifier`.
    """

    PARTS = ('global_backbone', 'local_backbone', 'global_head', 'local_head', 'cls_head',
             'policy')
    STAGE1_PARTS = ('local_backbone', 'cls_head')

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
                 training_stage: int = 1,
                 init_target: str = 'global',
                 init_dropout: float = 0.2,
                 stage3_trainable: Sequence[str] = ('cls_head', ),
                 reward: str = 'random',
                 random_patch: str = 'continuous',
                 exit_weights: Optional[List[float]] = None,
                 **kwargs):
        if exit_weights is None:
            exit_weights = [1.0 / num_segments] * num_segments
        super().__init__(exit_weights=exit_weights, **kwargs)
        self._set_stages(training_stage, init_target, stage3_trainable,
                         ('cls_head', 'local_backbone'))
        if reward not in REWARDS:
            raise ValueError(f'reward must be one of {REWARDS}, got {reward!r}')
        if random_patch not in ('continuous', 'grid'):
            raise ValueError(f'random_patch must be "continuous" or "grid", got {random_patch!r}')
        if not 0 < patch_size <= input_size:
            raise ValueError(f'patch_size {patch_size} must be in (0, input_size={input_size}]')
        self.num_exits = num_segments
        self.num_segments = num_segments
        self.patch_size = patch_size
        self.input_size = input_size
        self.glance_size = glance_size
        self.reward = reward
        self.random_patch = random_patch

        self.global_backbone = MODELS.build(global_backbone)
        self.local_backbone = MODELS.build(local_backbone)
        self.global_head = nn.Sequential(
            nn.Dropout(init_dropout), nn.Linear(global_channels, num_classes))
        self.local_head = nn.Linear(local_channels, num_classes)
        head = dict(cls_head or {})
        self.cls_head = AdaFocusGRUHead(global_channels + local_channels,
                                        head.pop('hidden_dim', 1024), num_classes, **head)

        policy = dict(policy or {})
        num_actions = policy.pop('num_actions', 49)
        hidden_dim = policy.pop('hidden_dim', 1024)
        map_size = glance_map_size(self.global_backbone, glance_size or input_size)
        self.policy = PPOPolicy(
            policy_state_encoder('conv', global_channels, map_size, hidden_dim),
            hidden_dim,
            action=dict(type='categorical', num_actions=num_actions),
            **policy)
        self.register_buffer('actions', action_grid(num_actions), persistent=False)
        self.memory = RolloutMemory()
        self._mode = 'argmax'
        self._apply_stage()

    # ---- per-frame computation ----------------------------------------------------------------
    def glance(self, frame: Tensor) -> Tuple[Tensor, Tensor]:
        """``f_G`` on a frame ``(B, 3, H, W)`` -> ``(map (B, C_G, h, w), pooled (B, C_G))``."""
        return glance_features(self.global_backbone, frame, self.glance_size)

    def focus(self, frame: Tensor, corners: Tensor) -> Tensor:
        """``f_L`` on the ``P x P`` crops at normalised corners ``(B, 2)`` -> ``(B, C_L)``."""
        patch = crop_patches(frame, corners, self.patch_size)
        return self.local_backbone(patch)[-1].mean(dim=(2, 3))

    def random_corners(self, batch: int, like: Tensor) -> Tensor:
        """Normalised corners ``(B, 2)`` of uniformly random patches (``random_patch``)."""
        if self.random_patch == 'grid':
            index = torch.randint(self.actions.size(0), (batch, ), device=like.device)
            return self.actions[index].to(like.dtype)
        return torch.rand(batch, 2, device=like.device, dtype=like.dtype)

    def _choose(self, fmap: Tensor, hidden: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        """Corners ``(B, 2)`` for the current ``_mode`` and the new policy hidden ``(B, H)``."""
        if self._mode == 'random':
            return self.random_corners(fmap.size(0), fmap), hidden
        hidden = (self.policy.init_hidden(fmap.size(0), fmap)
                  if hidden is None else hidden.unsqueeze(0).contiguous())
        rollout = self._mode == 'rollout'
        action, hidden = self.policy.act(
            fmap.detach(),
            hidden,
            memory=self.memory if rollout else None,
            deterministic=not rollout,
            behaviour=rollout)
        return self.actions[action].to(fmap.dtype), hidden[0]

    def init_state(self, inputs: Tensor) -> Dict[str, Any]:
        if inputs.dim() != 5 or inputs.size(1) != self.num_segments:
            raise ValueError(f'expected (B, {self.num_segments}, C, H, W) inputs, '
                             f'got {tuple(inputs.shape)}')
        return dict(frames=inputs, cls_hidden=None, pol_hidden=None)

    def forward_stage(self, k: int, state: Dict[str, Any]) -> Tuple[Tensor, Dict[str, Any]]:
        """Frame ``k``: glance, choose a patch, focus, one ``f_C`` step.

        In stage-2 rollouts the state also carries ``baseline_logits`` (``f_C`` on the
        baseline patch from the hidden state *before* this frame; that hidden state is not
        advanced by it) and ``corners``.
        """
        frame = state['frames'][:, k]
        fmap, glance_feat = self.glance(frame)
        corners, pol_hidden = self._choose(fmap, state['pol_hidden'])
        local_feat = self.focus(frame, corners)
        prev_hidden = state['cls_hidden']
        logits, cls_hidden = self.cls_head(torch.cat([glance_feat, local_feat], 1), prev_hidden)
        new_state = dict(frames=state['frames'], cls_hidden=cls_hidden, pol_hidden=pol_hidden)
        if self._mode == 'rollout':
            new_state['corners'] = corners
            if self.reward in ('random', 'padding'):
                if self.reward == 'random':
                    base_feat = self.focus(frame, self.random_corners(frame.size(0), frame))
                else:
                    base_feat = torch.zeros_like(local_feat)
                new_state['baseline_logits'], _ = self.cls_head(
                    torch.cat([glance_feat, base_feat], 1), prev_hidden)
        return logits, new_state

    def _run(self, inputs: Tensor, mode: str) -> Tuple[List[Tensor], List[Dict[str, Any]]]:
        self._mode = mode
        state = self.init_state(inputs)
        logits, states = [], []
        for k in range(self.num_exits):
            out, state = self.forward_stage(k, state)
            logits.append(out)
            states.append(state)
        return logits, states

    def forward_exits(self, inputs: Tensor) -> List[Tensor]:
        """Per-frame logits with the deterministic (argmax) policy."""
        return self._run(inputs, 'argmax')[0]

    def early_exit(self, inputs: Tensor, thresholds) -> Tuple[Tensor, Tensor]:
        self._mode = 'argmax'
        return super().early_exit(inputs, thresholds)

    def exit_costs(self, input_shape=None) -> List[float]:
        self._mode = 'argmax'
        return super().exit_costs(input_shape)

    # ---- stage 0 --------------------------------------------------------------------------------
    def init_logits(self, inputs: Tensor) -> Tensor:
        """Stage-0 video logits ``(B, classes)``: mean over frames of the per-frame head of the
        ``init_target`` CNN on full frames."""
        batch, frames = inputs.shape[:2]
        flat = inputs.flatten(0, 1)
        if self.init_target == 'global':
            logits = self.global_head(self.glance(flat)[1])
        else:
            logits = self.local_head(self.local_backbone(flat)[-1].mean(dim=(2, 3)))
        return logits.view(batch, frames, -1).mean(dim=1)

    # ---- losses and prediction ----------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        if self.training_stage == 0:
            logits = self.init_logits(inputs)
            return dict(loss_init=self.loss_module(
                logits, self._targets(data_samples), avg_factor=logits.size(0)))
        if self.training_stage == 2:
            return self._ppo_loss(inputs, data_samples)
        logits, _ = self._run(inputs, 'random' if self.training_stage == 1 else 'argmax')
        return self.exit_losses(logits, data_samples)

    def _ppo_loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        labels = torch.cat([s.gt_label for s in data_samples]).to(inputs.device)
        self.policy.sync_old()
        self.memory.clear()
        with torch.no_grad():
            logits, states = self._run(inputs, 'rollout')
            true_probs = self._true_probs(logits, labels)
            baseline = None
            if self.reward in ('random', 'padding'):
                baseline = self._true_probs([s['baseline_logits'] for s in states], labels)
            rewards = adafocus_rewards(true_probs, baseline, self.reward)
        self.memory.rewards.extend(rewards.unbind(0))
        losses = self.policy.loss(self.memory)
        self.memory.clear()
        losses['reward'] = rewards.mean()
        return losses

    @staticmethod
    def _true_probs(logits: List[Tensor], labels: Tensor) -> Tensor:
        probs = torch.stack([F.softmax(x, dim=1) for x in logits])  # (T, B, C)
        return probs.gather(2, labels.view(1, -1, 1).expand(len(logits), -1, 1))[..., 0]
