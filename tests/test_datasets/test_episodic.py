# Copyright (c) dynamicnet contributors. All rights reserved.
"""Episodic few-shot data: class splits, seeded episodes, posture pairs (fot.md §8.5)."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from dynamicnet.datasets import ClassSplitDataset, EpisodicDataset, PosturePairDataset
from dynamicnet.datasets.episodic import EpisodeData
from dynamicnet.datasets.episodic_splits import resolve_class_split

SPLITS = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='dynamicnet.LoadForegroundMask'),
    dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
]


def split_cfg(root: str, split: str, pipeline=PIPELINE) -> dict:
    return dict(
        type='dynamicnet.ClassSplitDataset',
        split=split,
        class_splits=SPLITS,
        split_root=root,
        dataset=dict(
            type='mmpretrain.CustomDataset', data_root=root, data_prefix='images',
            pipeline=pipeline))


@pytest.fixture
def root(tiny_data_root, default_scope):
    default_scope('mmpretrain')
    return tiny_data_root('fewshot')


def test_resolve_class_split_rules():
    classes = [f'c{i:03d}' for i in range(200)]
    base = resolve_class_split(classes, 'closer_look_cub', 'base')
    val = resolve_class_split(classes, 'closer_look_cub', 'val')
    novel = resolve_class_split(classes, 'closer_look_cub', 'novel')
    assert (len(base), len(val), len(novel)) == (100, 50, 50)
    assert set(base) | set(val) | set(novel) == set(range(200))
    assert novel[:3] == [3, 7, 11] and val[:3] == [1, 5, 9]
    sizes = dict(sizes=(70, 20, 30))
    assert resolve_class_split(classes[:120], sizes, 'val') == list(range(70, 90))
    assert resolve_class_split(classes[:120], sizes, 'novel') == list(range(90, 120))
    assert resolve_class_split(classes, dict(novel=['c005', 'c002']), 'novel') == [2, 5]
    with pytest.raises(KeyError):
        resolve_class_split(classes, dict(novel=['nope']), 'novel')
    with pytest.raises(ValueError):
        resolve_class_split(classes, 'closer_look_cub', 'test')


def test_class_lists_from_files_and_their_errors(tmp_path):
    classes = ['n01-Chihuahua', 'n02-papillon', 'n03-beagle', 'n04-whippet']
    (tmp_path / 'base.txt').write_text('# base classes\nn03-beagle\n\nn01-Chihuahua\n')
    (tmp_path / 'novel.txt').write_text('n02-papillon\n')
    files = dict(base='base.txt', novel='novel.txt')
    assert resolve_class_split(classes, files, 'base', str(tmp_path)) == [0, 2]
    assert resolve_class_split(classes, files, 'novel', str(tmp_path)) == [1]
    # Every missing class is named, with the closest dataset class as a hint.
    (tmp_path / 'novel.txt').write_text('papillon\nn02-papillon\nn09-pug\n')
    with pytest.raises(KeyError, match=r"2 class\(es\) of the 'novel' split .*novel.txt.*"
                       r"\['papillon', 'n09-pug'\].*closest dataset class to 'papillon' is "
                       r"'n02-papillon'"):
        resolve_class_split(classes, files, 'novel', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='val.txt'):
        resolve_class_split(classes, dict(base='base.txt', val='val.txt'), 'val', str(tmp_path))
    # Splits must be disjoint (a base class among the novel ones would leak).
    overlap = dict(base=['n01-Chihuahua', 'n02-papillon'], novel=['n02-papillon'])
    with pytest.raises(ValueError, match="'novel' and 'base' splits share 1"):
        resolve_class_split(classes, overlap, 'novel')
    with pytest.raises(ValueError, match='more than once'):
        resolve_class_split(classes, dict(novel=['n02-papillon'] * 2), 'novel')
    # Lists merged into a `sizes` placeholder (an override without _delete_=True) are refused.
    with pytest.raises(ValueError, match='mixes sizes'):
        resolve_class_split(classes, dict(sizes=(2, 1, 1), novel=['n02-papillon']), 'novel')


def test_class_split_dataset(root):
    full = split_cfg(root, 'base')['dataset']
    splits = {s: ClassSplitDataset(full, s, SPLITS, root) for s in ('base', 'val', 'novel')}
    names = {s: set(d.metainfo['classes']) for s, d in splits.items()}
    assert [len(names[s]) for s in ('base', 'val', 'novel')] == [10, 5, 5]
    assert not names['base'] & names['novel'] and not names['val'] & names['novel']
    novel = splits['novel']
    assert len(novel) == 5 * 20
    assert sorted(set(novel.labels)) == [0, 1, 2, 3, 4]
    # Remapped label = position of the original class within the split.
    item = novel[25]
    assert int(item['data_samples'].gt_label) == novel.labels[25] == 1
    original = novel.dataset.metainfo['classes'][novel.class_indices[1]]
    assert novel.metainfo['classes'][1] == original
    assert f'/{original}/' in item['data_samples'].img_path
    assert item['data_samples'].gt_seg_map.shape == (64, 64)


def test_episodes_structure_and_seed(root):
    ds = EpisodicDataset(split_cfg(root, 'novel'), n_way=3, k_shot=2, n_query=4, num_episodes=6,
                         episode_seed=7)
    ep = ds[2]
    assert isinstance(ep, EpisodeData)
    assert len(ep.support_inputs) == 6 and len(ep.query_inputs) == 12
    assert ep.support_labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert ep.query_labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert len(set(ep.classes.tolist())) == 3
    idx = ds.episode(2)
    assert not set(idx.support.ravel()) & set(idx.query.ravel())
    for row, c in enumerate(idx.classes):
        assert all(ds.dataset.labels[i] == c for i in idx.support[row])
        assert all(ds.dataset.labels[i] == c for i in idx.query[row])
        label = ep.support_labels[row * 2]
        assert int(ep.support_data_samples[row * 2].gt_label) == c and label == row

    # The documented draw, re-implemented independently.
    rng = np.random.default_rng([7, 2])
    pools = {c: np.flatnonzero(np.array(ds.dataset.labels) == c) for c in range(5)}
    classes = rng.choice(np.arange(5), 3, replace=False)
    assert classes.tolist() == idx.classes.tolist()
    for row, c in enumerate(classes):
        picked = pools[c][rng.choice(len(pools[c]), 6, replace=False)]
        assert picked[:2].tolist() == idx.support[row].tolist()
        assert picked[2:].tolist() == idx.query[row].tolist()

    # Same seed, new object, any order: identical; another seed: different.
    again = EpisodicDataset(split_cfg(root, 'novel'), n_way=3, k_shot=2, n_query=4,
                            num_episodes=6, episode_seed=7)
    for i in (5, 0, 2):
        assert np.array_equal(again.episode(i).query, ds.episode(i).query)
    other = EpisodicDataset(ds.dataset, n_way=3, k_shot=2, n_query=4, num_episodes=6,
                            episode_seed=8)
    assert any(not np.array_equal(other.episode(i).query, ds.episode(i).query) for i in range(6))
    with pytest.raises(IndexError):
        ds.episode(6)
    with pytest.raises(ValueError):
        EpisodicDataset(ds.dataset, n_way=5, k_shot=10, n_query=15, num_episodes=1)[0]


def _stream(ds, workers):
    loader = DataLoader(ds, batch_size=2, num_workers=workers, collate_fn=pseudo_collate)
    out = []
    for batch in loader:
        assert isinstance(batch, list)
        for ep in batch:
            out.append((ep.episode_idx, ep.classes.tolist(),
                        torch.stack(ep.support_inputs), torch.stack(ep.query_inputs)))
    return out


def test_episodes_identical_across_worker_counts(root):
    ds = EpisodicDataset(split_cfg(root, 'novel'), n_way=5, k_shot=1, n_query=3, num_episodes=4)
    single, multi = _stream(ds, 0), _stream(ds, 2)
    assert [s[:2] for s in single] == [m[:2] for m in multi]
    for s, m in zip(single, multi):
        assert torch.equal(s[2], m[2]) and torch.equal(s[3], m[3])


def test_posture_pairs(root):
    pairs = PosturePairDataset(split_cfg(root, 'base'), seed=3, identity_prob=0.0)
    base = pairs.dataset
    for i in (0, 17, 150):
        j = pairs.partner(i)
        assert j != i and base.labels[j] == base.labels[i]
        assert j == PosturePairDataset(base, seed=3, identity_prob=0.0).partner(i)
    item = pairs[17]
    sample = item['data_samples']
    partner = base[pairs.partner(17)]
    assert torch.equal(sample.pair_inputs, partner['inputs'])
    assert np.array_equal(sample.pair_gt_seg_map, partner['data_samples'].gt_seg_map)
    assert all(PosturePairDataset(base, identity_prob=1.0).partner(i) == i for i in range(5))
    # Leakage guard: the generator never trains on novel (or val) classes.
    with pytest.raises(ValueError, match='base classes only'):
        PosturePairDataset(split_cfg(root, 'novel'))
