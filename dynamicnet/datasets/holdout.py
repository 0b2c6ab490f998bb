# Copyright (c) dynamicnet contributors. All rights reserved.
"""A fixed random train / held-out split of a dataset (MSDNet's ``--use-valid``).

Budgeted-batch evaluation fits its exit thresholds on a set other than the test set
(``../shared/specs/dynamic-inference.md`` §4.2). MSDNet/RANet hold out 5,000 (CIFAR) or 50,000
(ImageNet) training images chosen by a random permutation and train on the rest. ``HoldoutSplit``
reproduces that: with the same ``dataset``, ``num_holdout`` and ``seed`` the ``'train'`` and
``'holdout'`` splits are disjoint and together cover the dataset. The held-out split is usually
given the test pipeline (dynamicnet default). GFNet/DVT fit on a random subset of the training
images they were trained on, with the training pipeline: ``split='holdout'`` on the training set
with the training pipeline gives that subset.
"""
from typing import Union

import numpy as np
from mmengine.dataset import BaseDataset

from dynamicnet.registry import DATASETS

__all__ = ['HoldoutSplit']


@DATASETS.register_module()
class HoldoutSplit:
    """One side of a seeded random split.

    Args:
        dataset: The dataset or its config (built in the current default scope).
        num_holdout: Size of the held-out side; an int >= 1 or a fraction in (0, 1).
        split: ``'train'`` (the rest) or ``'holdout'``.
        seed: Seed of the permutation (``numpy.random.RandomState``).
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 num_holdout: Union[int, float],
                 split: str = 'train',
                 seed: int = 0):
        if split not in ('train', 'holdout'):
            raise ValueError(f'split must be "train" or "holdout", got {split!r}')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        total = len(self.dataset)
        if isinstance(num_holdout, float) and 0 < num_holdout < 1:
            num_holdout = int(round(num_holdout * total))
        if not 0 < num_holdout < total:
            raise ValueError(f'num_holdout={num_holdout} must leave both splits non-empty '
                             f'(dataset of {total})')
        order = np.random.RandomState(seed).permutation(total)
        cut = total - num_holdout
        self.indices = order[cut:] if split == 'holdout' else order[:cut]
        self.split = split

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(int(self.indices[idx]))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        return self.dataset[int(self.indices[idx])]
