# Copyright (c) dynamicnet contributors. All rights reserved.
"""FOT foreground object extractors (Wang et al., "Fine-Grained Few Shot Learning with Foreground
Object Transformation", Neurocomputing 2021, arXiv 2109.05719).

Confirmed [paper text]: FOT removes the image background with a foreground object extractor.
Everything else here is dynamicnet's reconstruction (``../shared/specs/fot.md`` §4.1,
[unconfirmed]): a saliency map ``S(x)`` in ``[0, 1]`` and the composite

    ``x_fg = S * x + (1 - S) * c``,

with ``c`` a constant or blurred fill and ``S`` optionally binarised. Three extractors:

- :class:`SaliencyExtractor`: a trainable salient-object network (a small U-Net), trained on
  base-class images with their foreground masks (the default FOT extractor);
- :class:`GTMaskExtractor`: the dataset's masks (ablation / oracle);
- :class:`IdentityExtractor`: ``S = 1`` (no extraction).

Images enter the extractors in pixel units (0..255, the channel order of the data pipeline);
the networks see them divided by 255.
"""
from abc import abstractmethod
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from dynamicnet.registry import MODELS

from .fot_unet import FOTUNet

__all__ = [
    'FILLS', 'IMAGENET_MEAN_BGR', 'composite_foreground', 'masks_from_data_samples',
    'BaseForegroundExtractor', 'IdentityExtractor', 'GTMaskExtractor', 'SaliencyExtractor'
]

FILLS = ('zero', 'mean', 'blur')
# mmcv's LoadImageFromFile yields BGR; the classifier's preprocessor converts to RGB later.
IMAGENET_MEAN_BGR = (103.53, 116.28, 123.675)
DEFAULT_DATA_PREPROCESSOR = dict(type='ImgDataPreprocessor', mean=(0, 0, 0), std=(255, 255, 255))


def composite_foreground(imgs: Tensor,
                         saliency: Tensor,
                         fill: str = 'zero',
                         mean: Optional[Sequence[float]] = None,
                         blur_kernel: int = 11) -> Tensor:
    """``S * x + (1 - S) * c``.

    Args:
        imgs: ``(B, 3, H, W)`` images.
        saliency: ``(B, 1, H, W)`` maps in ``[0, 1]``.
        fill: ``'zero'`` (``c = 0``), ``'mean'`` (``c`` = ``mean`` per channel, in the units of
            ``imgs``) or ``'blur'`` (``c`` = the image box-blurred with ``blur_kernel``).
        mean: Per-channel fill for ``'mean'``.
        blur_kernel: Odd box-filter size for ``'blur'``.

    Returns:
        ``(B, 3, H, W)`` composites: equal to ``imgs`` where ``S = 1`` and to ``c`` where
        ``S = 0``.
    """
    if fill == 'zero':
        background = torch.zeros_like(imgs)
    elif fill == 'mean':
        if mean is None:
            raise ValueError("fill='mean' needs the per-channel mean")
        background = imgs.new_tensor(mean).view(1, -1, 1, 1).expand_as(imgs)
    elif fill == 'blur':
        background = F.avg_pool2d(
            F.pad(imgs, [blur_kernel // 2] * 4, mode='replicate'), blur_kernel, stride=1)
    else:
        raise ValueError(f'fill must be one of {FILLS}, got {fill!r}')
    return saliency * imgs + (1 - saliency) * background


def masks_from_data_samples(data_samples: Optional[Sequence[BaseDataElement]],
                            device: Optional[torch.device] = None,
                            key: str = 'gt_seg_map') -> Optional[Tensor]:
    """Stack the foreground masks ``(H, W)`` stored as ``key`` in the samples to
    ``(B, 1, H, W)`` float on ``device``.

    Masks are written by :class:`dynamicnet.datasets.transforms.LoadForegroundMask` and packed
    with ``PackInputs(algorithm_keys=('gt_seg_map', ))``. Returns ``None`` if any is missing.
    """
    if not data_samples or any(s is None or key not in s for s in data_samples):
        return None
    # Flips leave numpy views with negative strides, which torch cannot wrap.
    masks = torch.stack([torch.as_tensor(np.ascontiguousarray(s.get(key))) for s in data_samples])
    return masks.float()[:, None].to(device)


class BaseForegroundExtractor(BaseModel):
    """Saliency map + composite; subclasses define :meth:`saliency`.

    Args:
        fill: Background fill of the composite, ``'zero'`` (default), ``'mean'`` or ``'blur'``.
        binarize: ``None`` (soft map, default) or a threshold in ``(0, 1)``.
        apply_to_query: Whether FOT also extracts the query foregrounds (default ``True``).
        mean: Pixel mean per channel (0..255, pipeline channel order, BGR by default) for
            ``fill='mean'``.
        blur_kernel: Box-filter size for ``fill='blur'``.
        data_preprocessor: For training through the runner; by default scales to ``[0, 1]``.
        init_cfg: E.g. ``dict(type='Pretrained', checkpoint=...)`` for a trained extractor.
    """

    def __init__(self,
                 *,
                 fill: str = 'zero',
                 binarize: Optional[float] = None,
                 apply_to_query: bool = True,
                 mean: Sequence[float] = IMAGENET_MEAN_BGR,
                 blur_kernel: int = 11,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor or dict(DEFAULT_DATA_PREPROCESSOR),
            init_cfg=init_cfg)
        if fill not in FILLS:
            raise ValueError(f'fill must be one of {FILLS}, got {fill!r}')
        if binarize is not None and not 0 < binarize < 1:
            raise ValueError(f'binarize must be None or in (0, 1), got {binarize}')
        self.fill = fill
        self.binarize = binarize
        self.apply_to_query = apply_to_query
        self.mean = tuple(mean)
        self.blur_kernel = blur_kernel

    @abstractmethod
    def saliency(self, imgs01: Tensor, masks: Optional[Tensor] = None) -> Tensor:
        """Soft foreground map ``(B, 1, H, W)`` in ``[0, 1]`` of images ``(B, 3, H, W)`` in
        ``[0, 1]``; ``masks`` are the dataset masks ``(B, 1, H, W)`` where available."""

    def extract(self, imgs: Tensor, masks: Optional[Tensor] = None):
        """Foreground composites of pixel-unit images.

        Args:
            imgs: ``(B, 3, H, W)`` images in 0..255.
            masks: Optional dataset masks ``(B, 1, H, W)`` (needed by :class:`GTMaskExtractor`).

        Returns:
            tuple: ``x_fg`` ``(B, 3, H, W)`` in 0..255 and the (binarised if configured) map
            ``S`` ``(B, 1, H, W)``.
        """
        sal = self.saliency(imgs / 255., masks)
        if self.binarize is not None:
            sal = (sal >= self.binarize).to(imgs.dtype)
        return composite_foreground(imgs, sal, self.fill, self.mean, self.blur_kernel), sal

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """``mode='tensor'``: saliency ``(B, 1, H, W)`` of inputs in ``[0, 1]``;
        ``'predict'``: data samples with ``pred_saliency`` ``(1, H, W)``; ``'loss'``: losses."""
        masks = masks_from_data_samples(data_samples, inputs.device)
        if mode == 'loss':
            return self.loss(inputs, masks)
        sal = self.saliency(inputs, masks)
        if mode == 'tensor':
            return sal
        if mode == 'predict':
            out = []
            for i, s in enumerate(sal):
                sample = data_samples[i] if data_samples else BaseDataElement()
                sample.set_field(s, 'pred_saliency')
                out.append(sample)
            return out
        raise ValueError(f'invalid mode {mode!r}')

    def loss(self, inputs: Tensor, masks: Optional[Tensor]) -> dict:
        """Training losses; only the learned extractor has parameters to train."""
        raise TypeError(f'{type(self).__name__} has no parameters to train; train a '
                        "type='dynamicnet.SaliencyExtractor' instead.")


@MODELS.register_module()
class IdentityExtractor(BaseForegroundExtractor):
    """``S = 1``: the composite is the input (FOT's extractor switched off)."""

    def saliency(self, imgs01, masks=None):
        return imgs01.new_ones(imgs01.shape[0], 1, *imgs01.shape[2:])


@MODELS.register_module()
class GTMaskExtractor(BaseForegroundExtractor):
    """The dataset's foreground masks as ``S``.

    An ablation: on novel classes it is an oracle (real images come without masks); on base
    classes it is the supervision the trainable extractor and the generator use.
    """

    def saliency(self, imgs01, masks=None):
        if masks is None:
            raise ValueError('GTMaskExtractor needs dataset masks: load them with '
                             "LoadForegroundMask and PackInputs(algorithm_keys=('gt_seg_map',))")
        return masks.to(imgs01)


@MODELS.register_module()
class SaliencyExtractor(BaseForegroundExtractor):
    """A trainable salient-object network: ``S = sigmoid(UNet(x))``.

    dynamicnet's reconstruction [unconfirmed]: trained on **base-class** images supervised by
    their foreground masks (CUB provides segmentations) with binary cross-entropy plus a soft IoU
    loss; the paper's SOD network and its training data are unknown (``fot.md`` §4.1). It never
    sees novel-class images in training mode (guarded by
    :class:`dynamicnet.engine.loops.MetaTestLoop`).

    Args:
        base_channels: U-Net width.
        num_levels: U-Net depth.
        loss_bce_weight: Weight of the pixel-wise BCE.
        loss_iou_weight: Weight of ``1 - soft IoU``.
        **kwargs: See :class:`BaseForegroundExtractor`.
    """

    def __init__(self,
                 *,
                 base_channels: int = 16,
                 num_levels: int = 3,
                 loss_bce_weight: float = 1.0,
                 loss_iou_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.net = FOTUNet(3, 1, base_channels, num_levels)
        self.loss_bce_weight = loss_bce_weight
        self.loss_iou_weight = loss_iou_weight

    def saliency(self, imgs01, masks=None):
        return self.net(imgs01).sigmoid()

    def loss(self, inputs: Tensor, masks: Optional[Tensor]) -> dict:
        if masks is None:
            raise ValueError('training the extractor needs gt_seg_map foreground masks')
        logits = self.net(inputs)
        sal = logits.sigmoid()
        inter = (sal * masks).flatten(1).sum(1)
        union = (sal + masks - sal * masks).flatten(1).sum(1)
        return dict(
            loss_bce=self.loss_bce_weight * F.binary_cross_entropy_with_logits(logits, masks),
            loss_iou=self.loss_iou_weight * (1 - (inter + 1) / (union + 1)).mean())
