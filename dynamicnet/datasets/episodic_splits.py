# Copyright (c) dynamicnet contributors. All rights reserved.
"""Class-level base / val / novel splits of a classification dataset for few-shot learning.

Few-shot benchmarks split the *classes* (not the images) of a dataset into disjoint base classes
(pre-training), validation classes and novel classes (meta-test). :class:`ClassSplitDataset` keeps
the images of one such class subset of any mmengine / mmpretrain dataset and remaps their labels
to ``0 .. num_split_classes - 1``.
"""
import copy
import difflib
import logging
import os.path as osp
from typing import Dict, List, Sequence, Union

import torch
from mmengine.logging import print_log
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


def _read_class_list(spec: Union[str, Sequence], classes: Sequence[str], root: str,
                     split: str) -> List[int]:
    """Class indices of one split's list: a sequence of names / indices, or a text file of names.

    Raises a ``KeyError`` that names every listed class missing from ``classes`` (with the closest
    dataset class name as a hint), since a silently shorter split would change the benchmark.
    """
    source = 'the config'
    if isinstance(spec, str):
        source = spec if osp.isabs(spec) or not root else osp.join(root, spec)
        if not osp.isfile(source):
            raise FileNotFoundError(
                f'class list of the {split!r} split not found: {source} (a text file with one '
                'class name per line)')
        with open(source) as f:
            spec = [line.strip() for line in f]
        spec = [name for name in spec if name and not name.startswith('#')]
    index = {name: i for i, name in enumerate(classes)}
    out, missing = [], []
    for item in spec:
        if isinstance(item, int) and 0 <= item < len(classes):
            out.append(item)
        elif isinstance(item, str) and item in index:
            out.append(index[item])
        else:
            missing.append(item)
    if missing:
        close = difflib.get_close_matches(str(missing[0]), [str(c) for c in classes], n=1)
        hint = f'; the closest dataset class to {missing[0]!r} is {close[0]!r}' if close else ''
        raise KeyError(
            f'{len(missing)} class(es) of the {split!r} split ({source}) are not classes of the '
            f'dataset ({len(classes)} classes): {missing[:5]}{hint}. Names must equal the '
            "dataset's metainfo['classes'] (e.g. the class folder names of a CustomDataset).")
    if len(set(out)) != len(out):
        raise ValueError(f'the {split!r} split ({source}) lists a class more than once')
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
              indices, or the path of a text file with one class name per line (blank lines and
              ``#`` comments are skipped; relative paths are joined with ``root``). Every listed
              class must exist in ``classes`` and the given splits must be disjoint;
            - ``dict(sizes=(n_base, n_val, n_novel))``: contiguous ranges of the label order (a
              placeholder where the published class lists are not available);
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
        if len(class_splits) > 1:
            # e.g. lists merged into a base config's `sizes` without `_delete_=True`
            raise ValueError(f'class_splits mixes sizes with class lists: {sorted(class_splits)}')
        sizes = tuple(class_splits['sizes'])
        if len(sizes) != 3 or sum(sizes) > num:
            raise ValueError(f'sizes {sizes} do not fit {num} classes')
        start = sum(sizes[:SPLIT_NAMES.index(split)])
        return list(range(start, start + sizes[SPLIT_NAMES.index(split)]))
    unknown = set(class_splits) - set(SPLIT_NAMES)
    if unknown:
        raise ValueError(f'class_splits has unknown splits {sorted(unknown)}; use {SPLIT_NAMES}')
    if split not in class_splits:
        raise KeyError(f'class_splits gives no {split!r} split')
    resolved = {name: _read_class_list(spec, classes, root, name)
                for name, spec in class_splits.items()}
    # Disjointness is the few-shot protocol (and the leakage guarantee): no base or val class may
    # reappear among the novel ones.
    for other, indices in resolved.items():
        shared = set(resolved[split]) & set(indices) if other != split else set()
        if shared:
            names = sorted(classes[i] for i in shared)
            raise ValueError(f'the {split!r} and {other!r} splits share {len(shared)} '
                             f'class(es): {names[:5]}')
    return sorted(resolved[split])


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
        if isinstance(self.class_splits, dict) and 'sizes' in self.class_splits:
            print_log(
                f'{self.split} classes: a contiguous range of the label order (class_splits='
                f"{dict(self.class_splits)}), a placeholder and not a published split; results "
                'are not comparable with published tables', logger='current',
                level=logging.WARNING)
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
