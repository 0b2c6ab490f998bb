# Copyright (c) dynamicnet contributors. All rights reserved.
"""ISDA on the classification branch of an mmdet two-stage RoI box head (a dynamicnet extension).

The ISDA papers use COCO only through an ISDA-pre-trained ImageNet backbone (+0.4 to +0.6 box AP,
spec ``../shared/specs/isda.md`` §8.6); the detection code was never released. dynamicnet applies
the ISDA term to the RoI classifier ``fc_cls`` itself (spec §7.1, [design]): the features are the
exact input of ``fc_cls`` (captured by a forward pre-hook, so every ``ConvFCBBoxHead`` variant
works), the labels are the sampled RoIs' classification targets, the covariance is diagonal and
λ follows the iteration schedule. Choices:

* ``background='class'`` (default): the background row of ``fc_cls`` (label ``num_classes``) is
  an ordinary ISDA class with its own statistics. ``'ignore'``: background RoIs neither update
  the estimator nor get augmented; foreground RoIs still augment the background logit.
* λ0 has no paper value for this use; the configs' value is a starting point, not a tuned one.

No gain is claimed; the paper's numbers are for ISDA pre-training, not for this head.
"""
from typing import List, Optional, Tuple

import torch
from mmdet.models.losses import accuracy
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmengine.config import ConfigDict

from dynamicnet.models.losses.isda_loss import ISDALoss
from dynamicnet.registry import MODELS

__all__ = ['ISDABBoxHeadMixin', 'ISDAShared2FCBBoxHead']


class ISDABBoxHeadMixin:
    """Adds ISDA to an mmdet ``BBoxHead`` whose classifier ``fc_cls`` is an ``nn.Linear``.

    Args:
        isda_cfg: Keyword arguments of :class:`~dynamicnet.models.losses.ISDALoss` other than
            ``num_classes``/``feature_dim``/``ignore_index``, defaults
            ``lambda0=0.5, covariance='diagonal', schedule='iter'``.
        background: ``'class'`` or ``'ignore'`` (see the module docstring).
        **kwargs: Arguments of the mmdet box head.
    """

    def __init__(self, *args, isda_cfg: Optional[dict] = None, background: str = 'class',
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if background not in ('class', 'ignore'):
            raise ValueError(f"background must be 'class' or 'ignore', got {background!r}")
        if not isinstance(getattr(self, 'fc_cls', None), torch.nn.Linear):
            raise TypeError(f'{type(self).__name__}: ISDA needs a linear classifier fc_cls '
                            '(with_cls=True).')
        if (self.custom_cls_channels or getattr(self.loss_cls, 'use_sigmoid', False)
                or self.fc_cls.out_features != self.num_classes + 1):
            raise ValueError('ISDA needs a softmax classifier with num_classes + 1 outputs '
                             '(background last) trained with cross-entropy; sigmoid losses and '
                             'custom classification channels are not supported.')
        cfg = dict(lambda0=0.5, covariance='diagonal', schedule='iter')
        cfg.update(isda_cfg or {})
        self.background = background
        self.isda = ISDALoss(
            num_classes=self.num_classes + 1,
            feature_dim=self.fc_cls.in_features,
            ignore_index=self.num_classes if background == 'ignore' else None,
            **cfg)
        self._cls_features: Optional[torch.Tensor] = None
        self.fc_cls.register_forward_pre_hook(self._keep_cls_features)

    def _keep_cls_features(self, module: torch.nn.Module, args: Tuple[torch.Tensor]) -> None:
        # Only the training forward feeds loss_and_target; test-time inputs are not kept.
        self._cls_features = args[0] if self.training else None

    def loss_and_target(self,
                        cls_score: torch.Tensor,
                        bbox_pred: torch.Tensor,
                        rois: torch.Tensor,
                        sampling_results: List[SamplingResult],
                        rcnn_train_cfg: ConfigDict,
                        concat: bool = True,
                        reduction_override: Optional[str] = None) -> dict:
        """mmdet's ``loss_and_target`` with ``cls_score`` replaced by ISDA's augmented logits.

        ``acc`` is reported for the plain logits.
        """
        features = self._cls_features
        self._cls_features = None
        if features is None or features.size(0) != cls_score.size(0):
            raise RuntimeError('ISDA box head: the input of fc_cls for these RoIs was not '
                               'captured; call the head in training mode before the loss.')
        cls_reg_targets = self.get_targets(sampling_results, rcnn_train_cfg, concat=concat)
        labels = cls_reg_targets[0]
        aug_score = self.isda.augment(features, cls_score, labels, self.fc_cls)
        losses = self.loss(aug_score.to(cls_score.dtype), bbox_pred, rois, *cls_reg_targets,
                           reduction_override=reduction_override)
        if 'acc' in losses:
            losses['acc'] = accuracy(cls_score, labels)
        return dict(loss_bbox=losses, bbox_targets=cls_reg_targets)


@MODELS.register_module()
class ISDAShared2FCBBoxHead(ISDABBoxHeadMixin, Shared2FCBBoxHead):
    """mmdet ``Shared2FCBBoxHead`` (Faster R-CNN R50-FPN) with ISDA on ``fc_cls``."""
