# Copyright (c) dynamicnet contributors. All rights reserved.
"""mmpretrain head trained with CAM-loss (``L_ce + α·L_cam``), spec ``../shared/specs/camloss.md``.

The CAM needs the spatial map that enters global average pooling, so the head does the pooling
itself: use it with ``neck=None``. ``mean_hw(CAM_y) + b_y`` then equals the logit ``z_y``
exactly, which is what makes the CAM of this head a CAM.
"""
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from dynamicnet.models.losses.cam_loss import CAMLoss
from dynamicnet.registry import MODELS

__all__ = ['CAMLossClsHead']


@MODELS.register_module()
class CAMLossClsHead(LinearClsHead):
    """Global average pooling + linear classifier, trained with CE + CAM-loss.

    Input: backbone outputs whose last element is ``F (N, K, H, W)`` (``neck=None``).

    Args:
        num_classes: ``C``.
        in_channels: ``K``.
        cam_cfg: Keyword arguments of :class:`~dynamicnet.models.losses.CAMLoss` (``alpha``,
            ``alpha_schedule``, ``normalize``, ``distance``, ...). ``alpha=0`` is the CE baseline.
        **kwargs: Arguments of :class:`mmpretrain.models.LinearClsHead`.
    """

    def __init__(self, num_classes: int, in_channels: int, cam_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        self.cam_loss = CAMLoss(**(cam_cfg or {}))

    def feature_map(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The ``(N, K, H, W)`` map that enters the pooling."""
        fmap = feats[-1]
        if fmap.dim() != 4:
            raise ValueError('CAMLossClsHead needs the spatial feature map (N, K, H, W); set '
                             f'neck=None in the classifier (got shape {tuple(fmap.shape)}).')
        return fmap

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Global average pooling of the last map: ``(N, K)``."""
        return self.feature_map(feats).mean(dim=(2, 3))

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> dict:
        """``{'loss': CE}`` (+ accuracy if ``cal_acc``) and ``{'loss_cam': α·L_cam}`` if α > 0."""
        cls_score = self(feats)
        losses = self._get_loss(cls_score, data_samples, **kwargs)
        if self.cam_loss.current_alpha > 0:
            target = torch.cat([sample.gt_label for sample in data_samples])
            losses['loss_cam'] = self.cam_loss(self.feature_map(feats), self.fc.weight, target,
                                               cls_score)
        return losses
