# Copyright (c) dynamicnet contributors. All rights reserved.
"""CAM-loss: the CAAM–CAM matching term ``L_cam``.

"CAM-loss: Towards Learning Spatially Discriminative Feature Representations" (ICCV 2021,
arXiv 2109.01359), spec ``../shared/specs/camloss.md``. There is no official code and the paper's
equations were not available: every choice the spec marks [unconfirmed] is an option here with the
spec's documented default, and no paper number is claimed.

For the last convolutional feature map ``F (B, K, H, W)`` (the input of global average pooling)
and a linear classifier ``W (C, K)``::

    CAM_y = Σ_k W[y, k]·F[:, k]     (B, H, W)   class activation map of the target class
    CAAM  = Σ_k F[:, k]             (B, H, W)   class-agnostic activation map
    L_cam = mean_b mean_hw dist(N(CAAM), N(CAM_y))

"CAM-loss" is the whole objective ``L_ce + α·L_cam``. The classifier is detached in the CAM by
default: otherwise ``W[y] = c·1`` makes ``L_cam`` zero without touching the backbone (spec §3.3).
"""
import warnings
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from dynamicnet.registry import MODELS
from .isda_loss import runner_progress

__all__ = ['CAMLoss', 'class_activation_map', 'normalize_map', 'map_distance']


def class_activation_map(feature_map: torch.Tensor, class_weight: torch.Tensor) -> torch.Tensor:
    """Weighted channel sum ``Σ_k w[b, k]·F[b, k]``.

    Args:
        feature_map: ``(B, K, H, W)``.
        class_weight: ``(B, K)`` (one weight row per sample) or ``(K,)``.

    Returns:
        ``(B, H, W)``. With all-ones weights this is the CAAM.
    """
    if class_weight.dim() == 1:
        class_weight = class_weight.expand(feature_map.size(0), -1)
    return torch.einsum('bk,bkhw->bhw', class_weight.to(feature_map.dtype), feature_map)


def normalize_map(cam: torch.Tensor, mode: str = 'minmax', eps: float = 1e-6) -> torch.Tensor:
    """Per-sample normalisation over the **flattened** ``H·W`` cells.

    Args:
        cam: ``(B, H, W)``.
        mode: ``'minmax'``: ``(M − min)/(max − min + eps)`` into ``[0, 1]``; ``'sum'``: divide by
            the spatial sum (``+ eps``); ``'none'``.
        eps: Keeps constant maps finite.

    Returns:
        ``(B, H, W)``.
    """
    if mode == 'none':
        return cam
    flat = cam.flatten(1)
    if mode == 'minmax':
        low = flat.min(dim=1, keepdim=True).values
        high = flat.max(dim=1, keepdim=True).values
        flat = (flat - low) / (high - low + eps)
    elif mode == 'sum':
        flat = flat / (flat.sum(dim=1, keepdim=True) + eps)
    else:
        raise ValueError(f"normalize must be 'minmax', 'sum' or 'none', got {mode!r}")
    return flat.view_as(cam)


def map_distance(source: torch.Tensor, target: torch.Tensor, distance: str = 'l1',
                 keep: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean over samples and cells of an element-wise distance between ``(B, H, W)`` maps.

    Args:
        source: ``(B, H, W)``.
        target: ``(B, H, W)``.
        distance: ``'l1'``, ``'l2'`` (squared error) or ``'smooth_l1'`` (β = 1).
        keep: Optional ``(B,)`` bool mask of the samples that count.

    Returns:
        Scalar; 0 (with a graph) when no sample is kept.
    """
    if distance == 'l1':
        cell = (source - target).abs()
    elif distance == 'l2':
        cell = (source - target).pow(2)
    elif distance == 'smooth_l1':
        cell = F.smooth_l1_loss(source, target, reduction='none')
    else:
        raise ValueError(f"distance must be 'l1', 'l2' or 'smooth_l1', got {distance!r}")
    per_sample = cell.flatten(1).mean(1)
    if keep is None:
        return per_sample.mean()
    return (per_sample * keep).sum() / keep.sum().clamp(min=1)


@MODELS.register_module()
class CAMLoss(nn.Module):
    """``α·L_cam`` with the option set of the spec (§4); defaults as documented there.

    Args:
        alpha: Weight ``α ≥ 0`` (paper value unknown; the unofficial toy used 3).
        alpha_schedule: ``'constant'``; ``'step'``: 0 before ``warmup_epochs``, then α;
            ``'linear'``: ``α·min(1, epoch/warmup_epochs)``. Non-constant schedules read the
            runner's epoch from the ``MessageHub``.
        warmup_epochs: See ``alpha_schedule``.
        cam_class: ``'gt'`` (target class) or ``'pred'`` (arg-max of the logits).
        normalize: ``'minmax'``, ``'sum'`` or ``'none'`` (see :func:`normalize_map`).
        distance: ``'l1'``, ``'l2'`` or ``'smooth_l1'``.
        eps: Normalisation epsilon.
        detach_classifier: Build the CAM from a detached classifier weight (default; ``False``
            only for ablations: it admits the degenerate solution ``W[y] = c·1``).
        detach_cam: Use the CAM as a fixed target (gradient only through the CAAM).
        relu_cam: Apply ReLU to the CAM before normalising.
        skip_constant_maps: Leave out samples whose CAAM or CAM is constant (``max − min < eps``).
    """

    def __init__(self,
                 alpha: float = 1.0,
                 alpha_schedule: str = 'constant',
                 warmup_epochs: int = 0,
                 cam_class: str = 'gt',
                 normalize: str = 'minmax',
                 distance: str = 'l1',
                 eps: float = 1e-6,
                 detach_classifier: bool = True,
                 detach_cam: bool = False,
                 relu_cam: bool = False,
                 skip_constant_maps: bool = True) -> None:
        super().__init__()
        if alpha < 0:
            raise ValueError(f'alpha must be >= 0, got {alpha}')
        if alpha_schedule not in ('constant', 'step', 'linear'):
            raise ValueError("alpha_schedule must be 'constant', 'step' or 'linear', got "
                             f'{alpha_schedule!r}')
        if cam_class not in ('gt', 'pred'):
            raise ValueError(f"cam_class must be 'gt' or 'pred', got {cam_class!r}")
        if normalize not in ('minmax', 'sum', 'none'):
            raise ValueError(f"normalize must be 'minmax', 'sum' or 'none', got {normalize!r}")
        if distance not in ('l1', 'l2', 'smooth_l1'):
            raise ValueError(f"distance must be 'l1', 'l2' or 'smooth_l1', got {distance!r}")
        if not detach_classifier:
            warnings.warn('CAMLoss(detach_classifier=False) lets L_cam train the classifier, '
                          'which can zero it trivially with W[y] = c·1; use it for ablations '
                          'only.')
        self.alpha = float(alpha)
        self.alpha_schedule = alpha_schedule
        self.warmup_epochs = int(warmup_epochs)
        self.cam_class = cam_class
        self.normalize = normalize
        self.distance = distance
        self.eps = eps
        self.detach_classifier = detach_classifier
        self.detach_cam = detach_cam
        self.relu_cam = relu_cam
        self.skip_constant_maps = skip_constant_maps
        self._logged = False

    def extra_repr(self) -> str:
        return ', '.join(f'{k}={getattr(self, k)!r}' for k in (
            'alpha', 'alpha_schedule', 'warmup_epochs', 'cam_class', 'normalize', 'distance',
            'eps', 'detach_classifier', 'detach_cam', 'relu_cam', 'skip_constant_maps'))

    @property
    def current_alpha(self) -> float:
        """``α`` at the runner's current epoch."""
        if self.alpha_schedule == 'constant' or self.warmup_epochs <= 0:
            return self.alpha
        epoch, _ = runner_progress('epoch')
        if self.alpha_schedule == 'step':
            return self.alpha if epoch >= self.warmup_epochs else 0.0
        return self.alpha * min(1.0, epoch / self.warmup_epochs)

    def matching_term(self, feature_map: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
        """``L_cam`` between the CAAM of ``feature_map`` and a given ``(B, H, W)`` CAM.

        Shared with CAAM–CAM distillation, where ``cam`` is the teacher's.
        """
        if not self._logged:
            # Every run records the full option set: the paper's settings are unknown.
            print_log(f'CAM-loss options: {self.extra_repr()}', logger='current')
            self._logged = True
        caam = feature_map.sum(dim=1)
        if self.relu_cam:
            cam = cam.relu()
        if self.detach_cam:
            cam = cam.detach()
        keep = None
        if self.skip_constant_maps:
            keep = ((caam.flatten(1).amax(1) - caam.flatten(1).amin(1) >= self.eps) &
                    (cam.flatten(1).amax(1) - cam.flatten(1).amin(1) >= self.eps))
        return map_distance(
            normalize_map(caam, self.normalize, self.eps),
            normalize_map(cam, self.normalize, self.eps), self.distance, keep)

    def forward(self, feature_map: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                logits: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``α·L_cam`` (0 without computing anything when the current α is 0).

        Args:
            feature_map: ``(B, K, H, W)``: the tensor that enters global average pooling.
            weight: Classifier weight ``(C, K)``.
            labels: ``(B,)`` int64.
            logits: ``(B, C)``, needed for ``cam_class='pred'``.

        Returns:
            Scalar.
        """
        if feature_map.dim() != 4:
            raise ValueError('CAM-loss needs the spatial feature map (B, K, H, W) that enters '
                             f'global average pooling, got shape {tuple(feature_map.shape)}')
        if weight.dim() != 2 or weight.size(1) != feature_map.size(1):
            raise ValueError(f'classifier weight {tuple(weight.shape)} does not match '
                             f'{feature_map.size(1)} feature channels')
        alpha = self.current_alpha
        if alpha == 0:
            return feature_map.new_zeros(())
        if self.cam_class == 'pred':
            if logits is None:
                raise ValueError("cam_class='pred' needs the logits")
            labels = logits.argmax(dim=1)
        if self.detach_classifier:
            weight = weight.detach()
        cam = class_activation_map(feature_map, weight[labels])
        return alpha * self.matching_term(feature_map, cam)
