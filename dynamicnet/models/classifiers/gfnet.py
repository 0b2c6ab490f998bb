# Copyright (c) dynamicnet contributors. All rights reserved.
"""GFNet: Glance and Focus Networks (Wang et al., NeurIPS 2020, arXiv 2010.05300).

``../shared/specs/gfnet.md``; official ``blackfeather-wang/GFNet-Pytorch`` (commit ``8a6775c``).
Built on the multi-exit contract (:class:`MultiExitClassifier`): step ``t`` of the sequence is
stage ``t - 1`` and every step is an exit.

* Step 1 (**glance**): the whole image resized to ``P x P`` (``glance_interp``, bicubic with
  ``align_corners=True`` by default) through the global encoder ``f_G``.
* Steps ``t >= 2`` (**focus**): a ``P x P`` crop of the full-resolution image at the location
  chosen by the patch policy ``pi`` from the previous step's **detached** feature map, through the
  local encoder ``f_L``. Crops are integer-indexed: top-left ``floor(a (H - P))`` per axis,
  ``a[:, 0]`` -> row, ``a[:, 1]`` -> column (:func:`crop_patches`).
* Classifier ``f_C``: ``'gru'`` (ResNet/DenseNet/RegNet: one-layer GRU, hidden reset per image,
  ``Linear(hidden -> classes)``) or ``'cascade_linear'`` (MobileNetV3/EfficientNet: the glance
  prediction is ``f_G``'s own head, step ``t`` uses ``Linear(t F -> classes)`` on the
  concatenated pooled features).
* Encoders (:class:`GlanceFocusEncoder`) are mmpretrain backbones + global average pooling (+ an
  optional ``feature_proj`` like MobileNetV3's 1x1 ``conv_head``) + their own linear head, used
  for deep supervision and, for ``cascade_linear``, as the glance predictor.
* Policy: :class:`dynamicnet.models.utils.PPOPolicy` (Gaussian, sigmoid mean, sigma = 0.1,
  clamped samples); state encoder ``'mlp'`` (flatten -> 2048 -> hidden, ResNet/DenseNet) or
  ``'conv'`` (1x1 conv to 32, flatten -> hidden, MobileNetV3/EfficientNet/RegNet).

Training stages (``training_stage``; three configs chained by ``load_from``):

1. warm-up: uniform random patch locations; loss ``(1/T) sum_t [CE(f_C_t) + dsn_weight
   CE(head_enc(e_t))]``; ``f_G`` trained only if ``train_global``; policy frozen.
2. reinforcement learning: only the policy is trained; encoders and classifier frozen in eval
   mode (BN statistics fixed); the behaviour copy ``policy_old`` samples actions; reward
   ``r_t = p_t[y] - p_{t-1}[y]``; PPO loss (``gamma`` 0.7, clip 0.2, value 0.5, entropy 0.01).
3. fine-tuning: as stage 1, with locations **sampled** from the frozen trained policy
   (exploration noise kept).

Test time: the policy acts deterministically (``a = mu``); ``predict`` gives per-step scores for
:class:`dynamicnet.evaluation.EarlyExitMetric`, ``early_exit`` stops per sample.

Cost: ``exit_costs`` counts every step's encoder, classifier (GRU included) and, for ``t >= 2``,
the policy decision that chose the patch: ``F_t = t (F_enc(P) + F_fc) + (t - 1) F_pi``.
"""
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample
from torch import Tensor

from dynamicnet.registry import MODELS
from ..utils.ppo import CountedGRU, PPOPolicy, RolloutMemory, policy_state_encoder
from .multi_exit import MultiExitClassifier, select_batch

__all__ = [
    'crop_patches', 'glance_input', 'gfnet_rewards', 'GlanceFocusEncoder', 'GRUStepClassifier',
    'CascadeLinearClassifier', 'GFNet'
]


def crop_patches(images: Tensor,
                 actions: Tensor,
                 patch_size: int,
                 rows: Optional[Tensor] = None) -> Tensor:
    """Integer crops at normalised top-left corners, exact copies of input pixels.

    One ``torch.take`` reads only the ``B C P^2`` patch pixels, straight into a contiguous
    ``(B, C, P, P)`` tensor (the layout the glance step feeds its encoder, so both steps run the
    same convolution kernels).

    Args:
        images: ``(N, C, H, W)`` full-resolution images.
        actions: ``(B, 2)`` in ``[0, 1]``: ``(row, column)`` of the top-left corner as a fraction
            of ``(H - P, W - P)``.
        patch_size: ``P``.
        rows: ``(B,)`` long, the image each crop is taken from; ``None`` means ``arange(N)``
            (``B = N``). Early exit passes the rows still in the batch, so the full-resolution
            batch itself is never partitioned.

    Returns:
        ``(B, C, P, P)``, contiguous.
    """
    num, channels, height, width = images.shape
    device = images.device
    if rows is None:
        rows = torch.arange(num, device=device)
    span = torch.tensor([height - patch_size, width - patch_size], device=device,
                        dtype=actions.dtype)
    corner = torch.floor(actions * span).long()
    offsets = torch.arange(patch_size, device=device)
    # flat (row-major) index of pixel (c, y, x) of a patch whose corner is image 0's (0, 0) ...
    within = (torch.arange(channels, device=device)[:, None, None] * height
              + offsets[:, None]) * width + offsets
    # ... shifted to each patch's image and corner
    start = (rows * channels * height + corner[:, 0]) * width + corner[:, 1]
    return torch.take(images, within + start[:, None, None, None])


def gfnet_rewards(logits: List[Tensor], labels: Tensor) -> Tensor:
    """``r_t = p_t[y] - p_{t-1}[y]`` for ``t = 2..T`` (gain of the true-class softmax).

    Args:
        logits: ``T`` tensors ``(B, C)`` (step 1 = glance).
        labels: ``(B,)``.

    Returns:
        ``(T - 1, B)`` rewards of the decisions that chose patches ``2..T``.
    """
    probs = torch.stack([F.softmax(x, dim=1) for x in logits])  # (T, B, C)
    true_prob = probs.gather(2, labels.view(1, -1, 1).expand(len(logits), -1, 1))[..., 0]
    return true_prob[1:] - true_prob[:-1]


def glance_input(images: Tensor, patch_size: int, mode: str = 'bicubic') -> Tensor:
    """The whole image resized to ``P x P`` (``align_corners=True`` as the official code)."""
    align = True if mode in ('bilinear', 'bicubic') else None
    return F.interpolate(images, size=(patch_size, patch_size), mode=mode, align_corners=align)


@MODELS.register_module()
class GlanceFocusEncoder(BaseModule):
    """An mmpretrain backbone returning ``(pooled, detached last map, own-head logits)``.

    Args:
        backbone: Backbone config (prefixed type, e.g. ``'mmpretrain.ResNet'``); its last output
            is the feature map.
        map_channels: Channels ``C`` of that map.
        num_classes: Classes of the encoder's own linear head.
        feature_proj: Width of an optional ``Linear(C -> feature_proj)`` + ``Hardswish`` on the
            pooled map (MobileNetV3's 1x1 ``conv_head`` after pooling, 960 -> 1280).
        init_cfg: Initialisation config.

    Attributes:
        feature_dim: Pooled feature size ``F`` (``feature_num`` of the official code).
    """

    def __init__(self,
                 backbone: dict,
                 map_channels: int,
                 num_classes: int,
                 feature_proj: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.map_channels = map_channels
        self.proj = None
        self.feature_dim = map_channels
        if feature_proj is not None:
            self.proj = nn.Sequential(nn.Linear(map_channels, feature_proj), nn.Hardswish())
            self.feature_dim = feature_proj
        self.fc = nn.Linear(self.feature_dim, num_classes)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        fmap = self.backbone(x)[-1]
        pooled = fmap.mean(dim=(2, 3))
        if self.proj is not None:
            pooled = self.proj(pooled)
        return pooled, fmap.detach(), self.fc(pooled)


class GRUStepClassifier(nn.Module):
    """Official ``Full_layer`` with ``fc_rnn=True``: one GRU step, then a linear layer."""

    def __init__(self, feature_dim: int, hidden_dim: int, num_classes: int):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.rnn = CountedGRU(feature_dim, hidden_dim)
        self.fc = nn.Linear(hidden_dim, num_classes)

    def forward(self, feat: Tensor, hidden: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """``feat`` ``(B, F)``, ``hidden`` ``(B, H)`` or ``None`` (zeros) -> logits, hidden."""
        if hidden is None:
            hidden = feat.new_zeros(feat.size(0), self.hidden_dim)
        out, _ = self.rnn(feat.unsqueeze(0), hidden.unsqueeze(0).contiguous())
        return self.fc(out[0]), out[0]


class CascadeLinearClassifier(nn.Module):
    """Official ``Full_layer`` with ``fc_rnn=False``: ``fc_t = Linear(t F -> classes)``, t >= 2."""

    def __init__(self, feature_dim: int, num_steps: int, num_classes: int):
        super().__init__()
        self.fcs = nn.ModuleList(
            nn.Linear(t * feature_dim, num_classes) for t in range(2, num_steps + 1))

    def forward(self, feats: Tensor, step: int) -> Tensor:
        """``feats`` ``(B, t F)`` of steps ``1..t`` (``step = t - 1``, 0-based, >= 1)."""
        return self.fcs[step - 1](feats)


@MODELS.register_module()
class GFNet(MultiExitClassifier):
    """Glance and Focus Network; see the module docstring.

    Args:
        global_encoder: :class:`GlanceFocusEncoder` config (``type`` optional).
        local_encoder: Same architecture, separate weights.
        num_classes: Classes.
        patch_size: ``P`` (glance resolution = patch size).
        num_steps: ``T``.
        classifier: ``dict(type='gru', hidden_dim=1024)`` or ``dict(type='cascade_linear')``.
        policy: ``state_encoder`` (``'mlp'``/``'conv'``), ``hidden_dim`` (1024 / 256), ``std``
            (0.1) and the PPO coefficients of :class:`PPOPolicy` (``gamma``, ``clip_eps``,
            ``value_coef``, ``entropy_coef``).
        training_stage: 1, 2 or 3 (see the module docstring).
        train_global: Train ``f_G`` in stages 1 and 3 (ResNet/DenseNet/RegNet: True;
            MobileNetV3/EfficientNet: False, ``f_G`` frozen in eval mode).
        dsn_weight: ``lambda_dsn`` of the deep-supervision term (1; 5 for MBv3/EffNet).
        glance_interp: Interpolation of the glance input (``'bicubic'``; the official inference
            uses ``'bilinear'`` for DenseNet/RegNet -- keep train and test equal).
        exit_weights: Defaults to ``1/T`` per step (the official mean over steps).
        **kwargs: ``loss``, ``data_preprocessor``, ``train_cfg``, ``test_cfg``, ``init_cfg``
            of :class:`MultiExitClassifier`.
    """

    def __init__(self,
                 *,
                 global_encoder: dict,
                 local_encoder: dict,
                 num_classes: int,
                 patch_size: int = 96,
                 num_steps: int = 5,
                 classifier: Optional[dict] = None,
                 policy: Optional[dict] = None,
                 training_stage: int = 1,
                 train_global: bool = True,
                 dsn_weight: float = 1.0,
                 glance_interp: str = 'bicubic',
                 exit_weights: Optional[List[float]] = None,
                 **kwargs):
        if exit_weights is None:
            exit_weights = [1.0 / num_steps] * num_steps
        super().__init__(exit_weights=exit_weights, **kwargs)
        if training_stage not in (1, 2, 3):
            raise ValueError(f'training_stage must be 1, 2 or 3, got {training_stage}')
        self.num_exits = num_steps
        self.patch_size = patch_size
        self.training_stage = training_stage
        self.train_global = train_global
        self.dsn_weight = dsn_weight
        self.glance_interp = glance_interp
        self.global_encoder = self._build_encoder(global_encoder, num_classes)
        self.local_encoder = self._build_encoder(local_encoder, num_classes)
        feature_dim = self.global_encoder.feature_dim

        classifier = dict(classifier or dict(type='gru', hidden_dim=1024))
        self.classifier_type = classifier.pop('type')
        if self.classifier_type == 'gru':
            self.classifier = GRUStepClassifier(feature_dim, classifier.get('hidden_dim', 1024),
                                                num_classes)
        elif self.classifier_type == 'cascade_linear':
            self.classifier = CascadeLinearClassifier(feature_dim, num_steps, num_classes)
        else:
            raise ValueError(f'classifier type must be "gru" or "cascade_linear", '
                             f'got {self.classifier_type!r}')

        policy = dict(policy or {})
        kind = policy.pop('state_encoder', 'mlp')
        hidden_dim = policy.pop('hidden_dim', 1024)
        std = policy.pop('std', 0.1)
        channels, size = self._state_shape()
        self.policy = PPOPolicy(
            policy_state_encoder(kind, channels, size, hidden_dim),
            hidden_dim,
            action=dict(type='gaussian', action_dim=2, std=std),
            **policy)
        self.memory = RolloutMemory()
        self._action_mode = 'mean'
        self._apply_stage()

    @staticmethod
    def _build_encoder(cfg: dict, num_classes: int) -> GlanceFocusEncoder:
        cfg = dict(cfg)
        cfg.setdefault('type', 'dynamicnet.GlanceFocusEncoder')
        cfg.setdefault('num_classes', num_classes)
        return MODELS.build(cfg)

    @torch.no_grad()
    def _state_shape(self) -> Tuple[int, int]:
        """Channels and side of the encoder map for a ``P x P`` input (dry run in eval mode)."""
        was_training = self.global_encoder.training
        self.global_encoder.eval()
        _, fmap, _ = self.global_encoder(torch.zeros(1, 3, self.patch_size, self.patch_size))
        self.global_encoder.train(was_training)
        if fmap.size(2) != fmap.size(3):
            raise ValueError(f'non-square encoder map {tuple(fmap.shape)}')
        return fmap.size(1), fmap.size(2)

    # ---- training stages ----------------------------------------------------------------------
    def _frozen_modules(self) -> List[nn.Module]:
        if self.training_stage == 2:
            return [self.global_encoder, self.local_encoder, self.classifier]
        frozen: List[nn.Module] = [self.policy]
        if not self.train_global:
            frozen.append(self.global_encoder)
        return frozen

    def _apply_stage(self) -> None:
        # only switches gradients off, so backbone settings such as frozen_stages survive
        for module in self._frozen_modules():
            module.requires_grad_(False)

    def train(self, mode: bool = True) -> 'GFNet':
        """Frozen parts stay in eval mode (BN statistics fixed) while training."""
        super().train(mode)
        if mode:
            for module in self._frozen_modules():
                module.eval()
        return self

    # ---- the staged forward -------------------------------------------------------------------
    def init_state(self, inputs: Tensor) -> Dict[str, Any]:
        """``image`` stays the whole input batch; ``rows`` says which of its images the samples
        still in the batch are (crops read them directly, see :meth:`select_state`)."""
        return dict(image=inputs, rows=torch.arange(inputs.size(0), device=inputs.device),
                    map=None, cls_hidden=None, pol_hidden=None, feats=None, enc_logits=None,
                    action=None)

    def select_state(self, state: Dict[str, Any], index: Tensor) -> Dict[str, Any]:
        """Batch partitioning that leaves the full-resolution images in place: only ``rows`` and
        the per-sample features are gathered, and each focus step then crops just its patches
        (copying the images would move ``H W / P^2`` times more pixels than the crops read)."""
        return dict(select_batch(dict(state, image=None), index), image=state['image'])

    def _choose_action(self, state: Dict[str, Any]) -> Tuple[Tensor, Optional[Tensor]]:
        fmap = state['map']
        hidden = state['pol_hidden']
        if self._action_mode == 'uniform':
            return torch.rand(fmap.size(0), 2, device=fmap.device), hidden
        if hidden is None:
            hidden = self.policy.init_hidden(fmap.size(0), fmap)
        else:
            hidden = hidden.unsqueeze(0).contiguous()
        rollout = self._action_mode == 'rollout'
        action, hidden = self.policy.act(
            fmap,
            hidden,
            memory=self.memory if rollout else None,
            deterministic=self._action_mode == 'mean',
            behaviour=rollout)
        return action, None if hidden is None else hidden[0]

    def forward_stage(self, k: int, state: Dict[str, Any]) -> Tuple[Tensor, Dict[str, Any]]:
        image, rows = state['image'], state['rows']
        pol_hidden = state['pol_hidden']
        action = None
        if k == 0:
            # step 1 runs before any partitioning: rows == arange(N)
            pooled, fmap, enc_logits = self.global_encoder(
                glance_input(image, self.patch_size, self.glance_interp))
        else:
            action, pol_hidden = self._choose_action(state)
            pooled, fmap, enc_logits = self.local_encoder(
                crop_patches(image, action, self.patch_size, rows))
        cls_hidden = state['cls_hidden']
        feats = state['feats']
        if self.classifier_type == 'gru':
            logits, cls_hidden = self.classifier(pooled, cls_hidden)
        else:
            feats = pooled if feats is None else torch.cat([feats, pooled], dim=1)
            logits = enc_logits if k == 0 else self.classifier(feats, k)
        return logits, dict(image=image, rows=rows, map=fmap, cls_hidden=cls_hidden,
                            pol_hidden=pol_hidden, feats=feats, enc_logits=enc_logits,
                            action=action)

    def _run_steps(self, inputs: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        state = self.init_state(inputs)
        logits, enc_logits = [], []
        for k in range(self.num_exits):
            out, state = self.forward_stage(k, state)
            logits.append(out)
            enc_logits.append(state['enc_logits'])
        return logits, enc_logits

    def forward_exits(self, inputs: Tensor) -> List[Tensor]:
        self._action_mode = 'mean'
        return super().forward_exits(inputs)

    def early_exit(self, inputs: Tensor, thresholds) -> Tuple[Tensor, Tensor]:
        self._action_mode = 'mean'
        return super().early_exit(inputs, thresholds)

    def exit_costs(self, input_shape=None) -> List[float]:
        self._action_mode = 'mean'
        return super().exit_costs(input_shape)

    # ---- losses -------------------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        if self.training_stage == 2:
            return self._ppo_loss(inputs, data_samples)
        self._action_mode = 'uniform' if self.training_stage == 1 else 'sample'
        logits, enc_logits = self._run_steps(inputs)
        losses = self.exit_losses(logits, data_samples)
        for key, value in self.exit_losses(enc_logits, data_samples, prefix='loss_dsn').items():
            losses[key] = self.dsn_weight * value
        return losses

    def _ppo_loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        labels = torch.cat([s.gt_label for s in data_samples]).to(inputs.device)
        self.policy.sync_old()
        self.memory.clear()
        self._action_mode = 'rollout'
        with torch.no_grad():
            logits, _ = self._run_steps(inputs)
            rewards = gfnet_rewards(logits, labels)
        self.memory.rewards.extend(rewards.unbind(0))
        losses = self.policy.loss(self.memory)
        self.memory.clear()
        losses['reward'] = rewards.sum(0).mean()
        return losses

    def predict(self, inputs: Tensor, data_samples=None) -> List[DataSample]:
        self.memory.clear()
        return super().predict(inputs, data_samples)
