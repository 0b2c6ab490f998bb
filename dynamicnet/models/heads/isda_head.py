# Copyright (c) dynamicnet contributors. All rights reserved.
"""mmpretrain classification head trained with the ISDA surrogate loss.

ISDA (spec ``../shared/specs/isda.md``) only changes the training loss: the head computes the
logits ``z = fc(a)`` of the pooled feature ``a`` as :class:`mmpretrain.models.LinearClsHead`,
updates the class-conditional estimator with ``a`` and applies the head's own loss module
(``CrossEntropyLoss`` by default) to ``z̃ = z + (λ/2)·S[y]``. Prediction is unchanged.
"""
from typing import List, Optional, Tuple

import torch
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from dynamicnet.models.losses.isda_loss import ISDALoss
from dynamicnet.registry import MODELS

__all__ = ['ISDALinearClsHead']


@MODELS.register_module()
class ISDALinearClsHead(LinearClsHead):
    """:class:`mmpretrain.models.LinearClsHead` with ISDA in :meth:`loss`.

    Input: a tuple whose last element is the pooled feature ``(N, in_channels)`` (backbone +
    ``GlobalAveragePooling`` neck). The ``(num_classes, in_channels)`` weight of ``fc`` is the
    ``W`` of ISDA; the bias does not enter the augmentation.

    Args:
        num_classes: Number of classes ``C``.
        in_channels: Feature width ``A``.
        isda_cfg: Keyword arguments of :class:`~dynamicnet.models.losses.ISDALoss` other than
            ``num_classes`` and ``feature_dim``, e.g. ``dict(lambda0=0.5, covariance='full')``.
            The classification schedule ``λ = λ0·epoch/max_epochs`` is the default.
        **kwargs: Arguments of :class:`mmpretrain.models.LinearClsHead`.
    """

    def __init__(self, num_classes: int, in_channels: int, isda_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        self.isda = ISDALoss(num_classes=num_classes, feature_dim=in_channels,
                             **dict(dict(lambda0=0.5), **(isda_cfg or {})))

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> dict:
        """ISDA loss of a batch.

        Args:
            feats: Backbone/neck outputs; the last one is ``(N, A)``.
            data_samples: Samples with hard ``gt_label`` (batch augmentations that produce soft
                ``gt_score`` are not supported: ISDA's estimator needs one class per sample).

        Returns:
            ``{'loss': ...}`` plus ``accuracy_top-k`` of the plain logits if ``cal_acc``.
        """
        if 'gt_score' in data_samples[0]:
            raise ValueError('ISDA needs hard labels; soft gt_score targets (Mixup/CutMix) are '
                             'not supported.')
        pre_logits = self.pre_logits(feats)
        cls_score = self.fc(pre_logits)
        target = torch.cat([sample.gt_label for sample in data_samples])
        aug_score = self.isda.augment(pre_logits, cls_score, target, self.fc)
        losses = {
            'loss': self.loss_module(aug_score, target, avg_factor=aug_score.size(0), **kwargs)
        }
        if self.cal_acc:
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
