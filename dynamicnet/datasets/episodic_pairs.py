# Copyright (c) dynamicnet contributors. All rights reserved.
"""Same-class image pairs for training FOT's posture transformation generator on base classes."""
from typing import Dict, List, Union

import numpy as np
from torch.utils.data import Dataset

from dynamicnet.registry import DATASETS

from .episodic_splits import ClassSplitDataset, build_dataset, labels_of

__all__ = ['PosturePairDataset']


@DATASETS.register_module()
class PosturePairDataset(Dataset):
    """Item ``i`` is image ``i`` (source ``a``) with a partner ``b`` of the same class attached.

    The partner of item ``i`` is drawn from ``np.random.default_rng([seed, i])`` among the other
    images of its class (``b = a`` with probability ``identity_prob``, or when the class has one
    image), so pairs are identical across runs and workers. The partner's packed image and mask
    are stored in the source's data sample as ``pair_inputs`` and ``pair_gt_seg_map`` (when the
    pipeline loads masks with ``LoadForegroundMask`` + ``PackInputs(algorithm_keys=
    ('gt_seg_map',))``; otherwise the generator's ``mask_extractor`` provides them).

    Leakage guard: a wrapped :class:`ClassSplitDataset` must be the ``'base'`` split, since the
    generator may never be trained on novel classes (``fot.md`` §7).

    Args:
        dataset: The base-class dataset or its config.
        seed: Seed of the pairing.
        identity_prob: Probability of pairing an image with itself (teaches ``G`` the identity
            posture, ``fot.md`` §8.2).
    """

    def __init__(self,
                 dataset: Union[Dataset, dict],
                 seed: int = 0,
                 identity_prob: float = 0.1) -> None:
        self.dataset = build_dataset(dataset)
        if isinstance(self.dataset, ClassSplitDataset) and self.dataset.split != 'base':
            raise ValueError('the posture generator is trained on base classes only, got split '
                             f'{self.dataset.split!r}')
        self.seed = seed
        self.identity_prob = identity_prob
        self.labels = labels_of(self.dataset)
        self.class_to_indices: Dict[int, List[int]] = {}
        for idx, label in enumerate(self.labels):
            self.class_to_indices.setdefault(label, []).append(idx)

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def partner(self, idx: int) -> int:
        """Index of the partner ``b`` of item ``idx``."""
        rng = np.random.default_rng([self.seed, idx])
        others = [j for j in self.class_to_indices[self.labels[idx]] if j != idx]
        if not others or rng.random() < self.identity_prob:
            return idx
        return int(others[rng.integers(len(others))])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        data = self.dataset[idx]
        pair = self.dataset[self.partner(idx)]
        sample = data['data_samples']
        sample.set_field(pair['inputs'], 'pair_inputs')
        if 'gt_seg_map' in pair['data_samples']:
            sample.set_field(pair['data_samples'].gt_seg_map, 'pair_gt_seg_map')
        return data
