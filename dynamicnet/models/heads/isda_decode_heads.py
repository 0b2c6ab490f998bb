# Copyright (c) dynamicnet contributors. All rights reserved.
"""mmseg decode heads trained with per-pixel ISDA (needs mmsegmentation; imported from
:mod:`dynamicnet.models.seg`).

The official Cityscapes code (spec ``../shared/specs/isda.md`` §6.3) applies ISDA to every pixel
of the classifier's input at feature resolution:

1. the features ``F (N, A, h, w)`` that enter the 1×1 ``conv_seg`` (after its dropout, so that
   ``z = W a + b`` holds) and the logits ``z (N, C, h, w)``;
2. the labels ``(N, H, W)`` **nearest**-downsampled to ``h × w``;
3. ignore pixels (255) go to an extra estimator bucket ``C`` and keep ``z̃ = z``;
4. ``z̃`` is built **before** the bilinear upsampling; the head's own ``loss_by_feat`` then
   upsamples it to label resolution and applies its loss (CE with ignore index).

Each head instance owns its estimator, so the main and the auxiliary head of a model have separate
ones, as upstream. λ follows the per-iteration schedule ``λ0·iter/max_iters`` by default.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads import ASPPHead, FCNHead, PSPHead
from mmseg.models.utils import resize
from mmseg.models.losses import accuracy
from mmseg.utils import SampleList

from dynamicnet.models.losses.isda_loss import ISDALoss
from dynamicnet.registry import MODELS

__all__ = ['ISDADecodeHeadMixin', 'ISDAASPPHead', 'ISDAPSPHead', 'ISDAFCNHead']


class ISDADecodeHeadMixin:
    """Adds per-pixel ISDA to an mmseg ``BaseDecodeHead`` subclass with ``_forward_feature``.

    Args:
        isda_cfg: Keyword arguments of :class:`~dynamicnet.models.losses.ISDALoss` other than
            ``num_classes``, ``feature_dim`` and ``ignore_index`` (taken from the head). Defaults:
            ``lambda0=7.5, covariance='diagonal', schedule='iter'`` (the Cityscapes recipe).
        **kwargs: Arguments of the mmseg head.
    """

    def __init__(self, *args, isda_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(self, '_forward_feature'):
            raise TypeError(f'{type(self).__name__}: ISDA needs the head to expose the input of '
                            'its classifier through _forward_feature().')
        if self.out_channels != self.num_classes or self.num_classes < 2:
            raise ValueError('ISDA needs a softmax classifier with one output per class, got '
                             f'num_classes={self.num_classes}, out_channels={self.out_channels}')
        cfg = dict(lambda0=7.5, covariance='diagonal', schedule='iter')
        cfg.update(isda_cfg or {})
        self.isda = ISDALoss(num_classes=self.num_classes, feature_dim=self.channels,
                             ignore_index=self.ignore_index, **cfg)

    def isda_logits(self, inputs: Tuple[torch.Tensor],
                    batch_data_samples: SampleList) -> Tuple[torch.Tensor, torch.Tensor]:
        """Plain and augmented logits at feature resolution.

        Args:
            inputs: Multi-level backbone features.
            batch_data_samples: Samples with ``gt_sem_seg`` ``(1, H, W)``.

        Returns:
            ``(z, z̃)``, both ``(N, C, h, w)``.
        """
        feats = self._forward_feature(inputs)
        if self.dropout is not None:
            feats = self.dropout(feats)
        logits = self.conv_seg(feats)
        num, dim, height, width = feats.shape
        labels = self._stack_batch_gt(batch_data_samples).float()
        labels = F.interpolate(labels, size=(height, width), mode='nearest').long()
        flat_feats = feats.permute(0, 2, 3, 1).reshape(-1, dim)
        flat_logits = logits.permute(0, 2, 3, 1).reshape(-1, self.num_classes)
        aug = self.isda.augment(flat_feats, flat_logits, labels.reshape(-1), self.conv_seg)
        aug = aug.reshape(num, height, width, self.num_classes).permute(0, 3, 1, 2)
        return logits, aug.to(logits.dtype)

    def loss(self, inputs: Tuple[torch.Tensor], batch_data_samples: SampleList,
             train_cfg: dict) -> dict:
        """The head's losses on the augmented logits; ``acc_seg`` of the plain logits."""
        logits, aug = self.isda_logits(inputs, batch_data_samples)
        losses = self.loss_by_feat(aug, batch_data_samples)
        seg_label = self._stack_batch_gt(batch_data_samples)
        plain = resize(logits, size=seg_label.shape[2:], mode='bilinear',
                       align_corners=self.align_corners)
        losses['acc_seg'] = accuracy(plain, seg_label.squeeze(1), ignore_index=self.ignore_index)
        return losses


@MODELS.register_module()
class ISDAASPPHead(ISDADecodeHeadMixin, ASPPHead):
    """mmseg ``ASPPHead`` (DeepLabV3) with per-pixel ISDA."""


@MODELS.register_module()
class ISDAPSPHead(ISDADecodeHeadMixin, PSPHead):
    """mmseg ``PSPHead`` (PSPNet) with per-pixel ISDA."""


@MODELS.register_module()
class ISDAFCNHead(ISDADecodeHeadMixin, FCNHead):
    """mmseg ``FCNHead`` with per-pixel ISDA (the auxiliary head of DeepLabV3/PSPNet configs)."""
