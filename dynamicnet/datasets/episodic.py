# Copyright (c) dynamicnet contributors. All rights reserved.
"""Seeded N-way K-shot episodes over any classification dataset.

An episode draws ``n_way`` classes, then ``k_shot`` support and ``n_query`` query images per
class, without overlap. Episode ``i`` is drawn from its own generator seeded with
``(episode_seed, i)``, so it does not depend on which dataloader worker builds it, on the number
of workers, or on the order in which episodes are requested: runs with the same seed evaluate
identical episodes, and so do two methods compared under the same seed.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from dynamicnet.registry import DATASETS

from .episodic_splits import build_dataset, labels_of

__all__ = ['Episode', 'EpisodeData', 'EpisodicDataset', 'sample_episode']


@dataclass(frozen=True)
class Episode:
    """Indices of one episode.

    Attributes:
        classes: ``(n_way,)`` class labels of the wrapped dataset, in episode-label order.
        support: ``(n_way, k_shot)`` dataset indices; row ``c`` has episode label ``c``.
        query: ``(n_way, n_query)`` dataset indices.
    """
    classes: np.ndarray
    support: np.ndarray
    query: np.ndarray


@dataclass
class EpisodeData:
    """One loaded episode. A plain object, not a dict, so that mmengine's ``pseudo_collate``
    hands a batch of episodes over as a list instead of transposing their fields.

    Attributes:
        episode_idx: Index of the episode in the seeded stream.
        classes: ``(n_way,)`` labels of the wrapped dataset, in episode-label order.
        support_inputs: ``n_way * k_shot`` packed images (class-major).
        support_data_samples: Their data samples (masks for FOT live here).
        support_labels: ``(n_way * k_shot,)`` episode labels ``0 .. n_way - 1``.
        query_inputs, query_data_samples, query_labels: The same for the ``n_way * n_query``
            queries.
    """
    episode_idx: int
    classes: torch.Tensor
    support_inputs: List[torch.Tensor]
    support_data_samples: List[Any]
    support_labels: torch.Tensor
    query_inputs: List[torch.Tensor]
    query_data_samples: List[Any]
    query_labels: torch.Tensor


def sample_episode(class_to_indices: Dict[int, Sequence[int]], n_way: int, k_shot: int,
                   n_query: int, episode_seed: int, episode_idx: int) -> Episode:
    """Draw episode ``episode_idx`` of the stream seeded by ``episode_seed``.

    The draw: ``rng = np.random.default_rng([episode_seed, episode_idx])``; classes =
    ``rng.choice(sorted classes, n_way, replace=False)``; then for each drawn class in order,
    ``rng.choice(len(pool), k_shot + n_query, replace=False)`` positions into its sorted pool of
    indices, the first ``k_shot`` being the support.
    """
    rng = np.random.default_rng([episode_seed, episode_idx])
    labels = np.array(sorted(class_to_indices))
    if len(labels) < n_way:
        raise ValueError(
            f'{n_way}-way episodes need {n_way} classes, the dataset has {len(labels)}')
    classes = rng.choice(labels, n_way, replace=False)
    support, query = [], []
    for c in classes:
        pool = np.asarray(sorted(class_to_indices[int(c)]))
        if len(pool) < k_shot + n_query:
            raise ValueError(f'class {c} has {len(pool)} images, an episode needs '
                             f'{k_shot + n_query}')
        picked = pool[rng.choice(len(pool), k_shot + n_query, replace=False)]
        support.append(picked[:k_shot])
        query.append(picked[k_shot:])
    return Episode(classes=classes, support=np.stack(support), query=np.stack(query))


@DATASETS.register_module()
class EpisodicDataset(Dataset):
    """Few-shot episodes over a classification dataset (usually the novel split).

    Item ``i`` is an :class:`EpisodeData` whose inputs / data samples are the wrapped dataset's
    pipeline outputs (mmpretrain ``PackInputs``). Use it with mmengine's default
    ``pseudo_collate`` (a batch is then a list of episodes), e.g. as the ``val_dataloader`` of
    :class:`dynamicnet.engine.loops.MetaTestLoop`.

    Args:
        dataset: The wrapped dataset or its config, typically a
            :class:`~dynamicnet.datasets.ClassSplitDataset` with ``split='novel'``.
        n_way: Classes per episode.
        k_shot: Labelled support images per class.
        n_query: Query images per class.
        num_episodes: Number of episodes (the dataset length).
        episode_seed: Seed of the episode stream.
    """

    def __init__(self,
                 dataset: Union[Dataset, dict],
                 n_way: int = 5,
                 k_shot: int = 1,
                 n_query: int = 15,
                 num_episodes: int = 600,
                 episode_seed: int = 0) -> None:
        self.dataset = build_dataset(dataset)
        self.n_way = n_way
        self.k_shot = k_shot
        self.n_query = n_query
        self.num_episodes = num_episodes
        self.episode_seed = episode_seed
        self.class_to_indices: Dict[int, List[int]] = {}
        for idx, label in enumerate(labels_of(self.dataset)):
            self.class_to_indices.setdefault(label, []).append(idx)

    @property
    def metainfo(self) -> dict:
        meta = dict(self.dataset.metainfo)
        meta.update(n_way=self.n_way, k_shot=self.k_shot, n_query=self.n_query,
                    num_episodes=self.num_episodes, episode_seed=self.episode_seed)
        return meta

    def episode(self, idx: int) -> Episode:
        """Indices of episode ``idx`` (cheap: no image is loaded)."""
        if not 0 <= idx < self.num_episodes:
            raise IndexError(f'episode {idx} out of range({self.num_episodes})')
        return sample_episode(self.class_to_indices, self.n_way, self.k_shot, self.n_query,
                              self.episode_seed, idx)

    def _load(self, indices: np.ndarray) -> tuple:
        items = [self.dataset[int(i)] for i in indices.reshape(-1)]
        return [item['inputs'] for item in items], [item.get('data_samples') for item in items]

    def __len__(self) -> int:
        return self.num_episodes

    def __getitem__(self, idx: int) -> EpisodeData:
        ep = self.episode(idx)
        ways = torch.arange(self.n_way)
        support_inputs, support_samples = self._load(ep.support)
        query_inputs, query_samples = self._load(ep.query)
        return EpisodeData(
            episode_idx=idx,
            classes=torch.as_tensor(ep.classes, dtype=torch.long),
            support_inputs=support_inputs,
            support_data_samples=support_samples,
            support_labels=ways.repeat_interleave(self.k_shot),
            query_inputs=query_inputs,
            query_data_samples=query_samples,
            query_labels=ways.repeat_interleave(self.n_query))
