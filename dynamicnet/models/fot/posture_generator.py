# Copyright (c) dynamicnet contributors. All rights reserved.
"""FOT posture transformation generator (Wang et al., Neurocomputing 2021, arXiv 2109.05719).

Confirmed [paper text]: a generator "transforms the posture of the foreground object to generate
additional samples for the novel sub-category". dynamicnet's reconstruction
(``../shared/specs/fot.md`` §4.2, [unconfirmed]): ``G`` takes a source foreground ``x_fg^a``, its
saliency map ``S^a`` and a target posture given as a saliency map ``S^b``, and predicts the
object in posture ``b``. It is trained **on base classes only**, on pairs of images of the same
class (:class:`dynamicnet.datasets.PosturePairDataset`), to reconstruct the target foreground
inside the target mask: ``L = mean(S^b * |G(x_fg^a, S^a, S^b) - x^b|)``. The paper's architecture
and losses (perceptual, adversarial, class-consistency) are unknown; this one uses a U-Net and the
masked reconstruction loss.
"""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from dynamicnet.registry import MODELS

from .foreground_extractor import (DEFAULT_DATA_PREPROCESSOR, FILLS, IMAGENET_MEAN_BGR,
                                   composite_foreground, masks_from_data_samples)
from .fot_unet import FOTUNet

__all__ = ['POSTURE_SOURCES', 'PostureGenerator']

POSTURE_SOURCES = ('base_saliency_matching', 'random_base', 'support_only')


@MODELS.register_module()
class PostureGenerator(BaseModel):
    """``G(x_fg^a, S^a, S^b) -> x̂^b``: a U-Net on the 5-channel concatenation.

    Args:
        base_channels: U-Net width.
        num_levels: U-Net depth.
        fill: Background fill of the training source composite ``x_fg^a``; match the
            extractor's ``fill`` used at meta-test.
        mean: Pixel mean (0..255, pipeline channel order) for ``fill='mean'``.
        loss_type: ``'l1'`` or ``'l2'`` masked reconstruction.
        loss_weight: Weight of the reconstruction loss.
        mask_extractor: Optional foreground extractor config whose (frozen) saliency maps
            replace the dataset masks in training, for base classes without mask annotations
            (e.g. a ``SaliencyExtractor`` trained on generic salient-object data); ``None``
            (default) uses the dataset masks.
        posture_source: Where FOT takes target postures for a novel support image (used by
            :class:`dynamicnet.datasets.transforms.FOTTransform`):
            ``'base_saliency_matching'`` (default: the base-class saliency maps with the highest
            soft IoU to the support image's map), ``'random_base'`` (seeded random base maps) or
            ``'support_only'`` (maps of the episode's other support images).
        data_preprocessor: By default scales images to ``[0, 1]``.
        init_cfg: E.g. ``dict(type='Pretrained', checkpoint=...)``.

    Shapes:
        ``generate``: ``(B, 3, H, W)``, ``(B, 1, H, W)``, ``(B, 1, H, W)`` in ``[0, 1]`` ->
        ``(B, 3, H, W)`` in ``[0, 1]``.
    """

    def __init__(self,
                 *,
                 base_channels: int = 32,
                 num_levels: int = 3,
                 fill: str = 'zero',
                 mean: Sequence[float] = IMAGENET_MEAN_BGR,
                 loss_type: str = 'l1',
                 loss_weight: float = 1.0,
                 mask_extractor: Optional[dict] = None,
                 posture_source: str = 'base_saliency_matching',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor or dict(DEFAULT_DATA_PREPROCESSOR),
            init_cfg=init_cfg)
        if fill not in FILLS:
            raise ValueError(f'fill must be one of {FILLS}, got {fill!r}')
        if loss_type not in ('l1', 'l2'):
            raise ValueError(f"loss_type must be 'l1' or 'l2', got {loss_type!r}")
        if posture_source not in POSTURE_SOURCES:
            raise ValueError(f'posture_source must be one of {POSTURE_SOURCES}')
        self.net = FOTUNet(5, 3, base_channels, num_levels)
        self.fill = fill
        self.mean01 = tuple(m / 255. for m in mean)
        self.loss_type = loss_type
        self.loss_weight = loss_weight
        self.posture_source = posture_source
        self.mask_extractor = None
        if mask_extractor is not None:
            # Its weights come with its init_cfg when the runner calls init_weights().
            self.mask_extractor = MODELS.build(mask_extractor)
            self.mask_extractor.requires_grad_(False)

    def train(self, mode: bool = True) -> 'PostureGenerator':
        super().train(mode)
        if self.mask_extractor is not None:
            self.mask_extractor.eval()  # frozen: never fitted along with the generator
        return self

    def _masks(self, imgs01: Tensor, data_samples, key: str) -> Optional[Tensor]:
        if self.mask_extractor is None:
            return masks_from_data_samples(data_samples, imgs01.device, key)
        with torch.no_grad():
            return self.mask_extractor.extract(imgs01 * 255.)[1]

    def generate(self, fg01: Tensor, sal_src: Tensor, sal_tgt: Tensor) -> Tensor:
        """The object of ``fg01`` in the posture ``sal_tgt`` (RGB in ``[0, 1]``; the background is
        unconstrained: composite it with the target map)."""
        return self.net(torch.cat([fg01, sal_src, sal_tgt], dim=1)).sigmoid()

    def identity_error(self, imgs01: Tensor, masks: Tensor) -> Tensor:
        """Sanity metric (``fot.md`` §8.2): masked L1 of ``G(x_fg, S, S)`` against ``x``."""
        fg = composite_foreground(imgs01, masks, self.fill, self.mean01)
        return self._masked_error(self.generate(fg, masks, masks), imgs01, masks)

    def _masked_error(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        diff = (pred - target).abs() if self.loss_type == 'l1' else (pred - target).pow(2)
        return (mask * diff).sum() / (mask.sum() * diff.shape[1]).clamp(min=1)

    def loss(self, inputs: Tensor, data_samples: List[BaseDataElement]) -> dict:
        if any('pair_inputs' not in s for s in data_samples):
            raise ValueError('generator training needs PosturePairDataset samples')
        target = torch.stack([s.pair_inputs for s in data_samples]).to(inputs) / 255.
        masks = self._masks(inputs, data_samples, 'gt_seg_map')
        target_masks = self._masks(target, data_samples, 'pair_gt_seg_map')
        if masks is None or target_masks is None:
            raise ValueError('generator training needs foreground masks (dataset masks or '
                             'mask_extractor)')
        source = composite_foreground(inputs, masks, self.fill, self.mean01)
        pred = self.generate(source, masks, target_masks)
        return dict(loss_rec=self.loss_weight * self._masked_error(pred, target, target_masks))

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """``'loss'``: the masked reconstruction loss on pairs; ``'tensor'``/``'predict'``: the
        identity-posture reconstruction ``G(x_fg, S, S)`` of inputs in ``[0, 1]``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        masks = self._masks(inputs, data_samples, 'gt_seg_map')
        if masks is None:
            raise ValueError('the generator needs the foreground masks of its inputs')
        fg = composite_foreground(inputs, masks, self.fill, self.mean01)
        out = self.generate(fg, masks, masks)
        if mode == 'tensor':
            return out
        if mode == 'predict':
            for sample, img in zip(data_samples, out):
                sample.set_field(img, 'pred_img')
            return data_samples
        raise ValueError(f'invalid mode {mode!r}')
