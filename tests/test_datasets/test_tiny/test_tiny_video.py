# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny rawframe videos in mmaction2's layout.

mmaction2 is not in dynamicnet's pinned stack, so its ``RawframeDataset`` is used only where it
is installed; otherwise the lists are checked against the rule of mmaction2 1.2's
``RawframeDataset.load_data_list`` (``<frame_dir> <total_frames> <label>``, frames
``img_{:05}.jpg`` from 1).
"""
import os
import os.path as osp

import numpy as np
import pytest

from dynamicnet.datasets.tiny.video import VIDEO_CLASSES


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('video')


def entries(root, split):
    with open(f'{root}/{split}_list_rawframes.txt') as f:
        return [line.split() for line in f if line.strip()]


@pytest.mark.parametrize('split,count', [('train', 8), ('val', 4)])
def test_rawframe_lists(root, split, count):
    rows = entries(root, split)
    assert len(rows) == 6 * count
    for video, frames, label in rows:
        files = sorted(os.listdir(f'{root}/rawframes/{video}'))
        assert files == [f'img_{i:05d}.jpg' for i in range(1, int(frames) + 1)]
        assert 12 <= int(frames) <= 20 and 0 <= int(label) < 6
    with open(f'{root}/{split}_list_videos.txt') as f:
        videos = [line.split() for line in f]
    assert [(v[:-4], lab) for v, lab in videos] == [(v, lab) for v, _, lab in rows]
    assert all(osp.getsize(f'{root}/videos/{v}') > 1000 for v, _ in videos)


def test_mmaction_reads_lists(root, default_scope, tiny_base_cfg):
    pytest.importorskip('mmaction')
    default_scope('mmaction')
    from mmengine.registry import DATASETS
    cfg = tiny_base_cfg('video').train_dataloader.dataset.to_dict()
    cfg.update(
        ann_file=f'{root}/train_list_rawframes.txt', data_prefix=dict(img=f'{root}/rawframes'))
    ds = DATASETS.build(cfg)
    assert len(ds) == 48
    assert tuple(ds[0]['inputs'].shape) == (8, 3, 56, 56)


def test_motion_tells_class(root):
    """Learnability: the patch trajectory (tracked by its known colour) gives the class."""
    from PIL import Image
    correct = 0
    rows = entries(root, 'val')
    for video, frames, label in rows:
        colour = np.array(VIDEO_CLASSES[int(label)][2], dtype=np.float64)
        centres = []
        for t in range(1, int(frames) + 1):
            img = np.asarray(Image.open(f'{root}/rawframes/{video}/img_{t:05d}.jpg'), np.float64)
            close = np.linalg.norm(img - colour, axis=2)
            # the 5% closest pixels: about 80% of the 16 px patch, a steady centroid
            ys, xs = np.nonzero(close <= np.percentile(close, 5))
            centres.append((xs.mean(), ys.mean()))
        c = np.array(centres)
        step = c[-1] - c[0]
        a, b = c[1:-1] - c[:-2], c[2:] - c[1:-1]
        turn = (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()  # > 0: clockwise on screen
        path = np.linalg.norm(np.diff(c, axis=0), axis=1).sum()
        if np.linalg.norm(step) > 0.85 * path:  # straight: displacement ~ path length
            motion = ('right' if step[0] > 0 else 'left') if abs(step[0]) > abs(
                step[1]) else ('down' if step[1] > 0 else 'up')
        else:
            motion = 'cw' if turn > 0 else 'ccw'
        correct += motion == VIDEO_CLASSES[int(label)][1]
    assert correct / len(rows) >= 0.9
