# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro locally supervised training for any mmpretrain ResNet-like classifier.

Wang et al., "Revisiting Locally Supervised Learning: an Alternative to End-to-end Training",
ICLR 2021 (``../shared/specs/infopro.md``). The model is mmpretrain's :class:`ImageClassifier`
(same backbone / neck / head configs, same inference) trained with InfoPro's local-learning step
(:class:`dynamicnet.models.utils.infopro.InfoProMixin`).
"""
from typing import List, Optional, Tuple, Union

import torch
from mmpretrain.models.classifiers import ImageClassifier
from torch import nn

from dynamicnet.registry import MODELS
from ..utils.infopro import InfoProMixin
from ..utils.infopro_split import SplitSpec

__all__ = ['InfoProClassifier']


@MODELS.register_module()
class InfoProClassifier(InfoProMixin, ImageClassifier):
    """An :class:`ImageClassifier` trained as ``K`` gradient-isolated local modules.

    Example (ResNet-110, CIFAR-10, K = 4, contrastive local loss)::

        model = dict(
            type='dynamicnet.InfoProClassifier',
            backbone=dict(type='dynamicnet.CIFARResNet', depth=110),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                      loss=dict(type='CrossEntropyLoss')),
            split='resnet110_k4',
            loss_weights=dict(ixx_1=1, ixy_1=0, ixx_2=0, ixy_2=1),
            decoder=dict(type='dynamicnet.InfoProDecoder'),
            local_head=dict(type='dynamicnet.InfoProAuxHead', arch='1c2f', out_channels=128),
            local_loss=dict(type='dynamicnet.SupConLoss', temperature=0.07))

    Args:
        backbone, neck, head, pretrained, train_cfg, data_preprocessor, init_cfg: As for
            :class:`mmpretrain.models.ImageClassifier`.
        split: Preset name (``INFOPRO_SPLITS``) or ``[[stage, block], ...]``; ``None`` = E2E.
        loss_weights: ``dict(ixx_1, ixy_1, ixx_2=None, ixy_2=None)``: reconstruction (``ixx``)
            and task (``ixy``) weights of the first and last local module, linear in between.
        decoder: Reconstruction decoder config (``in_channels`` filled in).
        local_head: Auxiliary head config (``in_channels`` filled in); its ``out_channels`` is
            the projection width (contrast) or ``num_classes`` (softmax).
        local_loss: Task loss on the head output and the hard labels ``(N,)``:
            ``dynamicnet.SupConLoss`` (InfoPro "Contrast") or ``CrossEntropyLoss`` ("Softmax").
        checkpoint_modules: Also checkpoint activations inside each module.
        async_cfg: ``dict(staleness=s)`` for the asynchronous variant (needs
            ``dynamicnet.InfoProOptimWrapperConstructor``).
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 split: Union[str, SplitSpec, None] = None,
                 loss_weights: Optional[dict] = None,
                 decoder: Optional[dict] = None,
                 local_head: Optional[dict] = None,
                 local_loss: Optional[dict] = None,
                 checkpoint_modules: bool = False,
                 async_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=train_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self._init_infopro(split, loss_weights, decoder, local_head, checkpoint_modules,
                           async_cfg)
        if self.num_modules > 1:
            if local_loss is None:
                raise ValueError('K > 1 needs `local_loss`.')
            self.local_loss = MODELS.build(local_loss)

    def _final_losses(self, feats: Tuple[torch.Tensor, ...], data_samples: list) -> dict:
        if self.with_neck:
            feats = self.neck(feats)
        # mmpretrain heads name their loss 'loss', the key the logger uses for the total.
        return {('loss_cls' if name == 'loss' else name): value
                for name, value in self.head.loss(feats, data_samples).items()}

    def _local_task_losses(self, k: int, h: torch.Tensor, data_samples: list) -> dict:
        labels = torch.cat([sample.gt_label for sample in data_samples]).to(h.device)
        return dict(loss_task=self.local_loss(self.local_heads[k](h), labels))

    def _final_modules(self) -> List[nn.Module]:
        return [self.neck if self.with_neck else None, self.head]

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        """Gradient-isolated losses of all modules (see :meth:`_isolated_losses`)."""
        return self._isolated_losses(inputs, data_samples)
