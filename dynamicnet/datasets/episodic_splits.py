# Copyright (c) dynamicnet contributors. All rights reserved.
"""Class-level base / val / novel splits of a classification dataset for few-shot learning.

Few-shot benchmarks split the *classes* (not the images) of a dataset into disjoint base classes
(pre-training), validation classes and novel classes (meta-test). :class:`ClassSplitDataset` keeps
the images of one such class subset of any mmengine / mmpretrain dataset and remaps their labels
to ``0 .. num_split_classes - 1``.
"""
import copy
import os.path as osp
from typing import Dict, List, Sequence, Union

import torch
from torch.utils.data import Dataset

from dynamicnet.registry import DATASETS

__all__ = ['ClassSplitDataset', 'SPLIT_NAMES', 'resolve_class_split', 'build_dataset', 'labels_of']

SPLIT_NAMES = ('base', 'val', 'novel')

ClassSplits = Union[str, Dict[str, Union[str, Sequence[str], Sequence[int]]]]


def build_dataset(dataset: Union[Dataset, dict]) -> Dataset:
    """Build a dataset from a config (any registered type) or return the instance."""
    if isinstance(dataset, dict):
        return DATASETS.build(copy.deepcopy(dataset))
    return dataset


def labels_of(dataset: Dataset) -> List[int]:
    """Ground-truth class index of every sample, read from the annotations (no image loading).

    Works for :class:`mmengine.dataset.BaseDataset` subclasses (mmpretrain datasets) and the
    mmengine wrappers that implement ``get_data_info`` (``ConcatDataset``).
    """
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    return [int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))]


def _read_class_list(spec: Union[str, Sequence], classes: Sequence[str], root: str) -> List[int]:
    if isinstance(spec, str):
        path = spec if osp.isabs(spec) or not root else osp.join(root, spec)
        with open(path) as f:
            spec = [line.strip() for line in f if line.strip()]
    index = {name: i for i, name in enumerate(classes)}
    out = []
    for item in spec:
        if isinstance(item, int):
            out.append(item)
        elif item in index:
            out.append(index[item])
        else:
            raise KeyError(f'class {item!r} of the split is not in the dataset classes')
    return out


def resolve_class_split(classes: Sequence[str],
                        class_splits: ClassSplits,
                        split: str,
                        root: str = '') -> List[int]:
    """Indices (into ``classes``) of the classes of one split.

    Args:
        classes: Class names of the full dataset, in label order.
        class_splits: One of

            - ``dict(base=..., val=..., novel=...)``: each value a sequence of class names or
              indices, or the path of a text file with one class name per line (relative paths
              are joined with ``root``);
            - ``dict(sizes=(n_base, n_val, n_novel))``: contiguous ranges of the label order;
            - ``'closer_look_cub'``: the rule of Chen et al. (ICLR 2019) for CUB-200-2011, label
              ``i`` is base if ``i % 2 == 0``, val if ``i % 4 == 1``, novel if ``i % 4 == 3``
              (100/50/50) [unconfirmed: from recollection of their ``write_CUB_filelist.py``].
        split: ``'base'``, ``'val'`` or ``'novel'``.
        root: Directory for relative split-file paths.

    Returns:
        Sorted class indices of the split.
    """
    if split not in SPLIT_NAMES:
        raise ValueError(f'split must be one of {SPLIT_NAMES}, got {split!r}')
    num = len(classes)
    if class_splits == 'closer_look_cub':
        rule = {'base': lambda i: i % 2 == 0, 'val': lambda i: i % 4 == 1,
                'novel': lambda i: i % 4 == 3}[split]
        return [i for i in range(num) if rule(i)]
    if isinstance(class_splits, str):
        raise ValueError(f'unknown class split rule {class_splits!r}')
    if 'sizes' in class_splits:
        sizes = tuple(class_splits['sizes'])
        if len(sizes) != 3 or sum(sizes) > num:
            raise ValueError(f'sizes {sizes} do not fit {num} classes')
        start = sum(sizes[:SPLIT_NAMES.index(split)])
        return list(range(start, start + sizes[SPLIT_NAMES.index(split)]))
    return sorted(_read_class_list(class_splits[split], classes, root))


@DATASETS.register_module()
class ClassSplitDataset(Dataset):
    """The images of one class split (base / val / novel) of a classification dataset.

    Labels are remapped to the position of the class in the split, so a classifier pre-trained
    on the base split has ``num_classes = len(base classes)``. Samples are the wrapped dataset's
    pipeline outputs; the remapping is applied to ``data_samples.gt_label`` of mmpretrain's
    ``PackInputs`` output.

    Args:
        dataset: The wrapped dataset or its config (e.g. ``mmpretrain.CustomDataset``,
            ``mmpretrain.CUB`` or an mmengine ``ConcatDataset`` of its train and test parts).
        split: ``'base'``, ``'val'`` or ``'novel'``.
        class_splits: See :func:`resolve_class_split`.
        split_root: Directory for relative split-file paths.
        lazy_init: Defer reading the annotations until first use.

    Examples:
        >>> base = dict(type='dynamicnet.ClassSplitDataset', split='base',
        ...             class_splits=dict(base='splits/base.txt', val='splits/val.txt',
        ...                               novel='splits/novel.txt'),
        ...             split_root='data/tiny/fewshot',
        ...             dataset=dict(type='mmpretrain.CustomDataset', ...))
    """

    def __init__(self,
                 dataset: Union[Dataset, dict],
                 split: str,
                 class_splits: ClassSplits,
                 split_root: str = '',
                 lazy_init: bool = False) -> None:
        self.dataset = build_dataset(dataset)
        self.split = split
        self.class_splits = class_splits
        self.split_root = split_root
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        """Select the split's samples and build the label map."""
        if self._fully_initialized:
            return
        classes = tuple(self.dataset.metainfo['classes'])
        self.class_indices: List[int] = resolve_class_split(
            classes, self.class_splits, self.split, self.split_root)
        self.label_map: Dict[int, int] = {c: i for i, c in enumerate(self.class_indices)}
        labels = labels_of(self.dataset)
        self.indices: List[int] = [i for i, y in enumerate(labels) if y in self.label_map]
        self.labels: List[int] = [self.label_map[labels[i]] for i in self.indices]
        self._metainfo = dict(self.dataset.metainfo)
        self._metainfo['classes'] = tuple(classes[c] for c in self.class_indices)
        self._fully_initialized = True

    @property
    def metainfo(self) -> dict:
        self.full_init()
        return copy.deepcopy(self._metainfo)

    def get_data_info(self, idx: int) -> dict:
        """Annotation of sample ``idx`` with the remapped label."""
        self.full_init()
        info = dict(self.dataset.get_data_info(self.indices[idx]))
        info['gt_label'] = self.labels[idx]
        return info

    def get_cat_ids(self, idx: int) -> List[int]:
        self.full_init()
        return [self.labels[idx]]

    def __len__(self) -> int:
        self.full_init()
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        self.full_init()
        data = self.dataset[self.indices[idx]]
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if sample is not None and 'gt_label' in sample:
            sample.set_gt_label(torch.tensor([self.labels[idx]]))
        return data
