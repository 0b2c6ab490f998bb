# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro locally supervised training for mmseg encoder-decoder segmentors.

Wang et al., "Revisiting Locally Supervised Learning: an Alternative to End-to-end Training",
ICLR 2021, Cityscapes experiments (``../shared/specs/infopro.md`` §5.1, §5.2, §7.4). The model is
mmseg's :class:`EncoderDecoder` (same configs, same inference) trained with InfoPro's local
step (:class:`dynamicnet.models.utils.infopro.InfoProMixin`). The local task head of each
local module is an mmseg decode head (the official ``head_inter`` is an FCN head on the split
feature) with its own loss; the last module holds the rest of the backbone, the neck, the decode
head and the auxiliary head(s).

This module needs mmsegmentation: import it through ``dynamicnet.models.seg``.
"""
from typing import List, Optional, Tuple, Union

import torch
from mmseg.models.segmentors import EncoderDecoder
from torch import nn

from dynamicnet.registry import MODELS
from ..utils.infopro import InfoProMixin
from ..utils.infopro_split import SplitSpec

__all__ = ['InfoProEncoderDecoder']


@MODELS.register_module()
class InfoProEncoderDecoder(InfoProMixin, EncoderDecoder):
    """An mmseg :class:`EncoderDecoder` trained as ``K`` gradient-isolated local modules.

    Args:
        backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg, data_preprocessor,
            pretrained, init_cfg: As for :class:`mmseg.models.EncoderDecoder`.
        split: Preset name (``INFOPRO_SPLITS``, e.g. ``'resnetv1c101_cityscapes_k2'``) or
            ``[[stage, block], ...]``; ``None`` = end-to-end.
        loss_weights: ``dict(ixx_1, ixy_1, ixx_2=None, ixy_2=None)`` (reconstruction, task).
        decoder: Reconstruction decoder config (``in_channels`` filled in), e.g.
            ``dynamicnet.InfoProProgressiveDecoder`` for stride-8 features.
        local_head: An mmseg decode-head config (``in_channels`` filled in); its losses are the
            local task term (weighted by λ2).
        checkpoint_modules: Also checkpoint activations inside each module.
        async_cfg: ``dict(staleness=s)`` for the asynchronous variant.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 auxiliary_head: Optional[dict] = None,
                 split: Union[str, SplitSpec, None] = None,
                 loss_weights: Optional[dict] = None,
                 decoder: Optional[dict] = None,
                 local_head: Optional[dict] = None,
                 checkpoint_modules: bool = False,
                 async_cfg: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        self._init_infopro(split, loss_weights, decoder, local_head, checkpoint_modules,
                           async_cfg)

    def _final_losses(self, feats: Tuple[torch.Tensor, ...], data_samples: list) -> dict:
        x = self.neck(feats) if self.with_neck else feats
        losses = self._decode_head_forward_train(x, data_samples)
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        return losses

    def _local_task_losses(self, k: int, h: torch.Tensor, data_samples: list) -> dict:
        return self.local_heads[k].loss([h], data_samples, self.train_cfg)

    def _final_modules(self) -> List[nn.Module]:
        return [self.neck if self.with_neck else None, self.decode_head,
                self.auxiliary_head if self.with_auxiliary_head else None]

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        """Gradient-isolated losses of all modules (see :meth:`_isolated_losses`)."""
        return self._isolated_losses(inputs, data_samples)
