# Copyright (c) dynamicnet contributors. All rights reserved.
"""mmaction2-format video datasets and transforms (dynamicnet re-implementation).

Expected values are computed by hand from mmaction2 1.2's rules (``SampleFrames._get_train_clips``
/ ``_get_test_clips``, ``MultiScaleCrop``, ``CenterCrop``, ``RawframeDataset.load_data_list``).
"""
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from dynamicnet.datasets import RawframeDataset, VideoDataset
from dynamicnet.datasets.transforms.video import (FormatShape, MultiScaleCrop,
                                                  PackActionInputs, SampleFrameGroups,
                                                  SampleFrames, VideoCenterCrop, VideoFlip,
                                                  VideoResize)


def _pipeline(test_mode, segments=8):
    return [
        dict(type='dynamicnet.SampleFrames', clip_len=1, num_clips=segments, test_mode=test_mode),
        dict(type='dynamicnet.RawFrameDecode'),
        dict(type='dynamicnet.VideoCenterCrop', crop_size=64),
        dict(type='dynamicnet.FormatShape'),
        dict(type='dynamicnet.PackActionInputs'),
    ]


def test_sample_frames_test_mode_centres():
    # 20 frames, 8 segments of 2.5 frames: centres 1.25 + 2.5 k, truncated, + start_index 1
    out = SampleFrames(clip_len=1, num_clips=8, test_mode=True)(
        dict(total_frames=20, start_index=1))
    assert out['frame_inds'].tolist() == [2, 4, 7, 9, 12, 14, 17, 19]
    assert out['frame_inds'].dtype == np.int32


def test_sample_frames_train_one_random_frame_per_segment():
    np.random.seed(0)
    for _ in range(20):
        inds = SampleFrames(clip_len=1, num_clips=8)(dict(total_frames=20, start_index=1))
        inds = inds['frame_inds'] - 1
        # avg_interval = 20 // 8 = 2: segment k covers frames [2k, 2k + 2)
        assert ((inds >= np.arange(8) * 2) & (inds < np.arange(8) * 2 + 2)).all()


def test_sample_frames_short_videos():
    # 5 frames < 8 segments: around(arange(8) * 5 / 8) (train) ...
    out = SampleFrames(clip_len=1, num_clips=8)(dict(total_frames=5, start_index=0))
    assert out['frame_inds'].tolist() == [0, 1, 1, 2, 2, 3, 4, 4]
    # ... and centres of 0.625-frame segments at test time
    out = SampleFrames(clip_len=1, num_clips=8, test_mode=True)(dict(total_frames=5,
                                                                     start_index=0))
    assert out['frame_inds'].tolist() == [0, 0, 1, 2, 2, 3, 4, 4]
    # 3D clips loop past the end
    out = SampleFrames(clip_len=4, frame_interval=2, num_clips=1, test_mode=True)(
        dict(total_frames=5, start_index=0))
    assert out['frame_inds'].tolist() == [0, 2, 4, 1]


def test_sample_frame_groups_are_independent_tsn_samplings():
    # AdaFocus Sth-Sth: 8 glancer + 12 focuser segments of one 30-frame video, glancer first
    out = SampleFrameGroups(num_clips=(8, 12), test_mode=True)(dict(total_frames=30,
                                                                    start_index=1))
    # centres of 3.75- and 2.5-frame segments, truncated, + start_index 1
    assert out['frame_inds'].tolist() == [2, 6, 10, 14, 17, 21, 25, 29] + [
        2, 4, 7, 9, 12, 14, 17, 19, 22, 24, 27, 29]
    assert out['num_clips'] == 20 and out['clip_len'] == 1 and out['frame_groups'] == (8, 12)
    np.random.seed(0)
    for _ in range(20):
        inds = SampleFrameGroups(num_clips=(8, 12))(dict(total_frames=30, start_index=0))
        glance, focus = inds['frame_inds'][:8], inds['frame_inds'][8:]
        # one random frame in each of 8 segments of 3 frames / 12 segments of 2 frames
        assert ((glance >= np.arange(8) * 3) & (glance < np.arange(8) * 3 + 3)).all()
        assert ((focus >= np.arange(12) * 2) & (focus < np.arange(12) * 2 + 2)).all()


def test_crops_resize_flip_format():
    frames = [np.full((48, 64, 3), i, np.uint8) for i in range(3)]
    for i, f in enumerate(frames):
        f[0, :, 0] = np.arange(64)  # column index in the first row
        f[:, 0, 1] = np.arange(48)  # row index in the first column
    res = VideoCenterCrop(32)(dict(imgs=[f.copy() for f in frames], img_shape=(48, 64)))
    assert res['crop_bbox'].tolist() == [16, 8, 48, 40] and res['img_shape'] == (32, 32)
    # every MultiScaleCrop is one of the 13 fixed boxes of a candidate size
    import random
    random.seed(0)
    seen = set()
    for _ in range(200):
        res = MultiScaleCrop(40, scales=(1, 0.875, 0.75, 0.66), num_fixed_crops=13)(
            dict(imgs=list(frames), img_shape=(48, 64)))
        x1, y1, x2, y2 = res['crop_bbox'].tolist()
        w, h = x2 - x1, y2 - y1
        # sizes int(48 s) = 48, 42, 36, 31 (42 -> 40: within 2 px of the input size)
        assert w in (48, 40, 36, 31) and h in (48, 40, 36, 31)
        assert x1 % ((64 - w) // 4 or 1) == 0 and y1 % ((48 - h) // 4 or 1) == 0
        assert res['imgs'][2][0, 0, 2] == 2 and res['imgs'][0].shape == (h, w, 3)
        seen.add((w, h))
    assert len(seen) == 10  # scale pairs at most one level apart
    res = VideoResize((-1, 24))(dict(imgs=list(frames), img_shape=(48, 64)))
    assert res['img_shape'] == (24, 32) and res['imgs'][0].shape == (24, 32, 3)
    np.random.seed(0)
    res = VideoFlip(flip_ratio=1.0, flip_label_map={3: 4})(
        dict(imgs=[f.copy() for f in frames], img_shape=(48, 64), label=3))
    assert res['label'] == 4 and res['imgs'][1][0, 0, 0] == 63
    res = PackActionInputs()(FormatShape()(dict(imgs=list(frames), label=2)))
    assert res['inputs'].shape == (3, 3, 48, 64) and res['inputs'].dtype == torch.uint8
    assert res['data_samples'].gt_label.tolist() == [2]


def test_rawframe_dataset_reads_tiny_lists(tiny_data_root):
    root = tiny_data_root('video')
    ds = RawframeDataset(
        ann_file=osp.join(root, 'train_list_rawframes.txt'),
        data_prefix=dict(img=osp.join(root, 'rawframes')),
        check_frames=True,
        pipeline=_pipeline(True))
    with open(osp.join(root, 'train_list_rawframes.txt')) as f:
        rows = [line.split() for line in f]
    assert len(ds) == len(rows) == 48
    info = ds.get_data_info(5)
    assert info['frame_dir'] == osp.join(root, 'rawframes', rows[5][0])
    assert info['total_frames'] == int(rows[5][1]) and info['label'] == int(rows[5][2])
    out = ds[5]
    assert out['inputs'].shape == (8, 3, 64, 64)
    # the first sampled frame is the decoded RGB JPEG
    first = out['data_samples'].frame_inds[0]
    img = np.asarray(Image.open(osp.join(info['frame_dir'], f'img_{first:05d}.jpg')))
    assert np.array_equal(out['inputs'][0].permute(1, 2, 0).numpy(), img)


def test_rawframe_frame_count_check(tiny_data_root, tmp_path):
    root = tiny_data_root('video')
    with open(osp.join(root, 'val_list_rawframes.txt')) as f:
        lines = f.read().splitlines()
    video, frames, label = lines[0].split()
    bad = tmp_path / 'bad.txt'
    bad.write_text('\n'.join([f'{video} {int(frames) * 2} {label}'] + lines[1:]) + '\n')
    kwargs = dict(data_prefix=dict(img=osp.join(root, 'rawframes')), pipeline=[])
    with pytest.raises(ValueError, match='1 videos'):
        RawframeDataset(ann_file=str(bad), check_frames=True, **kwargs)
    assert len(RawframeDataset(ann_file=str(bad), **kwargs)) == 24
    multi = tmp_path / 'multi.txt'
    multi.write_text(f'{video} {frames} 1 3\n')
    ds = RawframeDataset(ann_file=str(multi), multi_class=True, num_classes=6, **kwargs)
    assert ds.get_data_info(0)['label'].tolist() == [0, 1, 0, 1, 0, 0]


def test_video_dataset_decodes_mp4(tiny_data_root):
    root = tiny_data_root('video')
    ds = VideoDataset(
        ann_file=osp.join(root, 'val_list_videos.txt'),
        data_prefix=dict(video=osp.join(root, 'videos')),
        pipeline=[
            dict(type='dynamicnet.OpenCVInit'),
            dict(type='dynamicnet.SampleFrames', clip_len=1, num_clips=8, test_mode=True),
            dict(type='dynamicnet.OpenCVDecode'),
            dict(type='dynamicnet.FormatShape'),
            dict(type='dynamicnet.PackActionInputs'),
        ])
    raw = RawframeDataset(
        ann_file=osp.join(root, 'val_list_rawframes.txt'),
        data_prefix=dict(img=osp.join(root, 'rawframes')),
        pipeline=_pipeline(True))
    assert len(ds) == len(raw) == 24
    video, frames = ds[3], raw[3]
    # 0-based video indices + 1 = the 1-based rawframe indices of the same frames
    assert (video['data_samples'].frame_inds + 1).tolist() == \
        frames['data_samples'].frame_inds.tolist()
    diff = (video['inputs'].float() - frames['inputs'].float()).abs().mean().item()
    assert diff < 12  # lossy mp4 vs JPEG of the same frames
    assert video['data_samples'].gt_label == frames['data_samples'].gt_label
