# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny fine-grained few-shot set: CustomDataset folders, masks beside images, class splits."""
import numpy as np
import pytest

pytest.importorskip('mmpretrain')


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('fewshot')


def read_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def test_dataset_and_splits(root, default_scope, tiny_dataset_cfg):
    default_scope('mmpretrain')
    from mmengine.registry import DATASETS
    ds = DATASETS.build(tiny_dataset_cfg('fewshot', 'train', root))
    classes = read_lines(f'{root}/classes.txt')
    assert list(ds.CLASSES) == classes and len(classes) == 20
    assert classes[0] == '001.round_a' and classes == sorted(classes)
    assert len(ds) == 400
    assert tuple(ds[0]['inputs'].shape) == (3, 64, 64)
    splits = {s: read_lines(f'{root}/splits/{s}.txt') for s in ('base', 'val', 'novel')}
    assert [len(v) for v in splits.values()] == [10, 5, 5]
    assert sorted(sum(splits.values(), [])) == classes  # disjoint and complete
    # Every family has base and novel species (fine-grained transfer).
    family = {c: c.split('.')[1].split('_')[0] for c in classes}
    assert {family[c] for c in splits['base']} == {family[c] for c in splits['novel']}


def test_masks(root):
    from PIL import Image
    import glob
    images = sorted(glob.glob(f'{root}/images/*/*.png'))
    assert len(images) == 400
    fractions = []
    for path in images[::7]:
        img = Image.open(path)
        mask = np.asarray(Image.open(path.replace('/images/', '/masks/')))
        assert mask.shape == img.size[::-1] and mask.dtype == np.uint8
        assert set(np.unique(mask)) == {0, 255}
        fractions.append((mask > 0).mean())
    assert 0.05 < min(fractions) and max(fractions) < 0.5


def test_class_in_foreground_only(root):
    """Learnability: the median foreground (body) colour classifies the 20 species while the
    background colour is at chance (1/20): each image has its own cluttered background."""
    from PIL import Image
    import glob
    rows = []
    for label, folder in enumerate(sorted(glob.glob(f'{root}/images/*'))):
        for i, path in enumerate(sorted(glob.glob(f'{folder}/*.png'))):
            img = np.asarray(Image.open(path), dtype=np.float64)
            fg = np.asarray(Image.open(path.replace('/images/', '/masks/'))) > 0
            rows.append((label, i, np.median(img[fg], 0), np.median(img[~fg], 0)))

    def accuracy(feature: int) -> float:
        train = [r for r in rows if r[1] < 14]
        test = [r for r in rows if r[1] >= 14]
        means = np.array([np.mean([r[feature] for r in train if r[0] == k], 0) for k in range(20)])
        pred = [np.argmin(np.linalg.norm(means - r[feature], axis=1)) for r in test]
        return float(np.mean([p == r[0] for p, r in zip(pred, test)]))

    assert accuracy(2) > 0.9
    assert accuracy(3) < 0.2
