# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny Cityscapes read by mmseg's unchanged CityscapesDataset with the base config's pipelines."""
import numpy as np
import pytest

from dynamicnet.datasets.tiny.cityscapes import CITYSCAPES_PALETTE

pytest.importorskip('mmseg')


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('cityscapes')


def build(cfg):
    from mmengine.registry import DATASETS
    return DATASETS.build(cfg)


@pytest.mark.parametrize('split,count', [('train', 8), ('val', 4)])
def test_dataset(root, split, count, default_scope, tiny_dataset_cfg):
    default_scope('mmseg')
    ds = build(tiny_dataset_cfg('cityscapes', split, root))
    assert len(ds) == count
    assert len(ds.metainfo['classes']) == 19
    info = ds.get_data_info(0)
    assert info['seg_map_path'].endswith('_gtFine_labelTrainIds.png')
    assert info['img_path'].endswith('_leftImg8bit.png')
    sample = ds[0]
    seg = sample['data_samples'].gt_sem_seg.data
    assert sample['inputs'].shape[0] == 3
    if split == 'train':
        assert tuple(sample['inputs'].shape[1:]) == (64, 128)  # the base config's crop
    values = set(seg.unique().tolist())
    assert values <= set(range(19)) | {255}


def test_label_maps(root):
    from PIL import Image
    import glob
    present = set()
    for path in glob.glob(f'{root}/gtFine/train/*/*_labelTrainIds.png'):
        label = np.asarray(Image.open(path))
        assert label.dtype == np.uint8 and label.shape == (128, 256)
        assert set(np.unique(label)) <= set(range(19)) | {255}
        assert np.all(label[-6:] == 255)  # the ego-vehicle band is ignored
        present |= set(np.unique(label).tolist())
    assert present == set(range(19)) | {255}


def test_colour_tells_class(root):
    """Learnability: nearest palette colour of a 3x3-smoothed pixel gives its trainId."""
    from PIL import Image
    import glob
    correct = total = 0
    palette = np.array(CITYSCAPES_PALETTE, dtype=np.float64)
    for path in sorted(glob.glob(f'{root}/leftImg8bit/val/*/*.png')):
        img = np.asarray(Image.open(path), dtype=np.float64)
        label = np.asarray(
            Image.open(
                path.replace('leftImg8bit', 'gtFine', 1).replace('_leftImg8bit.png',
                                                                 '_gtFine_labelTrainIds.png')))
        pad = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode='edge')
        smooth = sum(pad[i:i + img.shape[0], j:j + img.shape[1]] for i in range(3)
                     for j in range(3)) / 9
        valid = label != 255
        pred = np.argmin(np.linalg.norm(smooth[valid][:, None] - palette[None], axis=2), 1)
        correct += (pred == label[valid]).sum()
        total += valid.sum()
    assert correct / total > 0.9
