# Copyright (c) dynamicnet contributors. All rights reserved.
"""FOT data side: foreground-mask loading and the episode-level FOT augmentation.

FOT (Wang et al., "Fine-Grained Few Shot Learning with Foreground Object Transformation",
Neurocomputing 2021, arXiv 2109.05719) is a plug-in augmentation of the few-shot support set.
Confirmed [paper text]: a foreground object extractor removes the background and a posture
transformation generator synthesises extra support samples of the novel class. How the parts
are wired here is dynamicnet's reconstruction (``../shared/specs/fot.md`` §4, [unconfirmed]);
every open choice is an option with the documented default of ``fot.md`` §5.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from torch import Tensor, nn

from dynamicnet.registry import MODELS, TRANSFORMS

from ..episodic_splits import build_dataset

__all__ = ['LoadForegroundMask', 'FOTTransform']


@TRANSFORMS.register_module()
class LoadForegroundMask(BaseTransform):
    """Load the binary foreground mask stored beside an image as ``results['gt_seg_map']``.

    The mask path replaces the last ``img_dir`` component of ``img_path`` with ``mask_dir`` and
    the extension with ``mask_suffix``, e.g. ``root/images/cls/a.jpg`` ->
    ``root/masks/cls/a.png`` (CUB-200-2011: ``mask_dir='segmentations'``). mmcv's geometric
    transforms (``Resize``, ``CenterCrop``, ``RandomFlip``) then treat it like a segmentation map;
    pack it with ``PackInputs(algorithm_keys=('gt_seg_map', ))``.

    Required keys: ``img_path``. Added keys: ``gt_seg_map`` (uint8 ``(H, W)`` in {0, 1}).

    Args:
        img_dir: Path component of the images.
        mask_dir: Path component of the masks.
        mask_suffix: Mask file extension.
        threshold: Grey level (0..255) from which a mask pixel is foreground (CUB's soft
            segmentations are binarised at 128 by default).
    """

    def __init__(self,
                 img_dir: str = 'images',
                 mask_dir: str = 'masks',
                 mask_suffix: str = '.png',
                 threshold: int = 128) -> None:
        self.img_dir = img_dir
        self.mask_dir = mask_dir
        self.mask_suffix = mask_suffix
        self.threshold = threshold

    def mask_path(self, img_path: str) -> str:
        parts = img_path.split('/')
        if self.img_dir not in parts:
            raise ValueError(f'{img_path!r} has no {self.img_dir!r} component')
        pos = len(parts) - 1 - parts[::-1].index(self.img_dir)
        parts[pos] = self.mask_dir
        return osp.splitext('/'.join(parts))[0] + self.mask_suffix

    def transform(self, results: dict) -> dict:
        mask = mmcv.imfrombytes(get(self.mask_path(results['img_path'])), flag='grayscale')
        results['gt_seg_map'] = (mask >= self.threshold).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(img_dir={self.img_dir!r}, mask_dir={self.mask_dir!r}, '
                f'mask_suffix={self.mask_suffix!r}, threshold={self.threshold})')


def soft_iou(a: Tensor, b: Tensor) -> Tensor:
    """Pairwise soft IoU of saliency maps: ``(N, 1, H, W) x (M, 1, H, W) -> (N, M)``."""
    a, b = a.flatten(1), b.flatten(1)
    inter = a @ b.t()
    return inter / (a.sum(1)[:, None] + b.sum(1)[None] - inter).clamp(min=1e-6)


@TRANSFORMS.register_module()
class FOTTransform:
    """Episode-level FOT: foreground extraction and ``n_aug`` posture-transformed samples per
    support image.

    Called by :class:`dynamicnet.engine.loops.MetaTestLoop` on the stacked episode images
    (pixel units, before the classifier's data preprocessor); all its modules run in eval mode
    under ``torch.no_grad``. For each support image ``x`` with map ``S = E(x)``:

    - the real sample becomes ``x_fg = S x + (1 - S) c`` (``extractor.fill``);
    - ``n_aug`` target postures ``S^b`` are chosen by ``generator.posture_source`` and
      ``G(x_fg / 255, S, S^b)`` composited on ``S^b`` gives the generated samples, which
      inherit the label of ``x`` and get the loss weight ``generated_weight``;
    - queries are foreground-extracted too when ``extractor.apply_to_query``.

    Postures of ``'base_saliency_matching'`` / ``'random_base'`` come from a bank of base-class
    saliency maps, the extractor's maps of up to ``num_postures`` base images (never novel ones).

    With ``n_aug=0`` and the identity extractor the episode is returned unchanged, bit for bit.

    Args:
        extractor: Extractor config (``dynamicnet.SaliencyExtractor`` (FOT default, pass its
            trained weights with ``init_cfg=dict(type='Pretrained', checkpoint=...)``),
            ``dynamicnet.GTMaskExtractor`` or ``dynamicnet.IdentityExtractor``), carrying
            ``fill``, ``binarize`` and ``apply_to_query``.
        generator: ``dynamicnet.PostureGenerator`` config (with ``posture_source`` and trained
            weights), or ``None`` (``generator.type='none'``: extractor only; needs
            ``n_aug=0``).
        n_aug: Generated samples per support image (default 0: FOT's generator off).
        generated_weight: Loss weight of generated vs real samples (default 1.0).
        posture_bank: Base-class dataset config (images + masks) for the posture bank; needed
            by the ``*_base`` posture sources.
        num_postures: Bank size: a seeded subset of the base dataset.
        seed: Seed of the modules' initialisation, the bank subset and the random postures.
    """

    def __init__(self,
                 extractor: dict = dict(type='dynamicnet.IdentityExtractor'),
                 generator: Optional[dict] = None,
                 n_aug: int = 0,
                 generated_weight: float = 1.0,
                 posture_bank: Optional[dict] = None,
                 num_postures: int = 256,
                 seed: int = 0) -> None:
        if n_aug < 0:
            raise ValueError(f'n_aug must be >= 0, got {n_aug}')
        if n_aug > 0 and generator is None:
            raise ValueError('n_aug > 0 needs a generator')
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.extractor = self._build(extractor)
            self.generator = self._build(generator) if generator is not None else None
        self.n_aug = n_aug
        self.generated_weight = generated_weight
        self.posture_source = getattr(self.generator, 'posture_source', None)
        if n_aug > 0 and self.posture_source != 'support_only' and posture_bank is None:
            raise ValueError(f'posture_source={self.posture_source!r} needs a posture_bank')
        self.posture_bank_cfg = posture_bank
        self.num_postures = num_postures
        self.seed = seed
        self._bank: Optional[Tensor] = None

    @staticmethod
    def _build(cfg: dict) -> nn.Module:
        module = MODELS.build(copy.deepcopy(cfg))
        module.init_weights()
        return module.eval()

    def modules(self) -> List[nn.Module]:
        """The networks novel images pass through (for eval mode and the leakage guard)."""
        return [m for m in (self.extractor, self.generator) if m is not None]

    def to(self, device) -> 'FOTTransform':
        for m in self.modules():
            m.to(device)
        return self

    def posture_bank(self, device) -> Tensor:
        """Extractor maps ``(M, 1, H, W)`` of a seeded subset of the base-class bank dataset."""
        if self._bank is None:
            # Imported here: `import dynamicnet.datasets` must not pull in every model.
            from dynamicnet.models.fot import masks_from_data_samples
            dataset = build_dataset(self.posture_bank_cfg)
            rng = np.random.default_rng([self.seed, len(dataset)])
            picked = np.sort(rng.permutation(len(dataset))[:self.num_postures])
            maps = []
            for start in range(0, len(picked), 32):
                items = [dataset[int(i)] for i in picked[start:start + 32]]
                imgs = torch.stack([it['inputs'] for it in items]).float().to(device)
                masks = masks_from_data_samples([it['data_samples'] for it in items], device)
                maps.append(self.extractor.extract(imgs, masks)[1])
            self._bank = torch.cat(maps)
        return self._bank.to(device)

    def _target_postures(self, sal: Tensor, episode_idx: int) -> Tensor:
        """``(N, n_aug, 1, H, W)`` target maps for the support maps ``sal`` ``(N, 1, H, W)``."""
        rng = np.random.default_rng([self.seed, episode_idx])
        num = len(sal)
        if self.posture_source == 'support_only':
            rows = []
            for i in range(num):
                others = [j for j in range(num) if j != i] or [i]
                rows.append(rng.choice(others, self.n_aug, replace=len(others) < self.n_aug))
            return sal[torch.as_tensor(np.stack(rows), device=sal.device)]
        bank = self.posture_bank(sal.device)
        if bank.shape[-2:] != sal.shape[-2:]:
            bank = F.interpolate(bank, size=sal.shape[-2:], mode='bilinear', align_corners=False)
        if self.n_aug > len(bank):
            raise ValueError(f'n_aug={self.n_aug} exceeds the {len(bank)} bank postures')
        if self.posture_source == 'random_base':
            idx = np.stack([rng.choice(len(bank), self.n_aug, replace=False) for _ in range(num)])
            idx = torch.as_tensor(idx, device=sal.device)
        else:
            idx = soft_iou(sal, bank).topk(self.n_aug, dim=1).indices
        return bank[idx]

    @torch.no_grad()
    def __call__(self,
                 support_imgs: Tensor,
                 support_labels: Tensor,
                 query_imgs: Tensor,
                 support_masks: Optional[Tensor] = None,
                 query_masks: Optional[Tensor] = None,
                 episode_idx: int = 0) -> Dict[str, Tensor]:
        """Augment one episode.

        Args:
            support_imgs: ``(N, 3, H, W)`` float, pixel units.
            support_labels: ``(N,)`` episode labels.
            query_imgs: ``(Q, 3, H, W)``.
            support_masks, query_masks: Dataset masks ``(N|Q, 1, H, W)`` (``GTMaskExtractor``).
            episode_idx: Seeds the random posture choices.

        Returns:
            dict: ``support_imgs`` ``(N (1 + n_aug), 3, H, W)`` (real samples first, then the
            generated ones grouped by source), ``support_labels``, ``support_weights``
            ``(N (1 + n_aug),)`` and ``query_imgs``.
        """
        from dynamicnet.models.fot import composite_foreground  # see posture_bank
        fg, sal = self.extractor.extract(support_imgs, support_masks)
        labels = support_labels
        weights = torch.ones(len(fg), device=fg.device)
        if self.n_aug > 0:
            targets = self._target_postures(sal, episode_idx).flatten(0, 1)
            src = fg.repeat_interleave(self.n_aug, dim=0) / 255.
            src_sal = sal.repeat_interleave(self.n_aug, dim=0)
            raw = self.generator.generate(src, src_sal, targets) * 255.
            ex = self.extractor
            generated = composite_foreground(raw, targets, ex.fill, ex.mean, ex.blur_kernel)
            fg = torch.cat([fg, generated])
            labels = torch.cat([labels, labels.repeat_interleave(self.n_aug)])
            weights = torch.cat(
                [weights, weights.new_full((len(generated), ), self.generated_weight)])
        if self.extractor.apply_to_query:
            query_imgs = self.extractor.extract(query_imgs, query_masks)[0]
        return dict(support_imgs=fg, support_labels=labels, support_weights=weights,
                    query_imgs=query_imgs)
