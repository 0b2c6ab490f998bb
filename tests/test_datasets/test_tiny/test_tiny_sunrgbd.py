# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny SUN RGB-D read by mmdet3d's unchanged SUNRGBDDataset with the base config's pipelines."""
import pickle

import numpy as np
import pytest
import torch

from dynamicnet.datasets.tiny._indoor3d import box_corners
from dynamicnet.datasets.tiny.sunrgbd import (FLOOR_RGB, SUNRGBD_CLASSES, SUNRGBD_MEAN_SIZES,
                                              SUNRGBD_PALETTE, WALL_RGB)

pytest.importorskip('mmdet3d')


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('sunrgbd')


def build(cfg):
    from mmengine.registry import DATASETS
    return DATASETS.build(cfg)


def infos(root, split):
    with open(f'{root}/sunrgbd_infos_{split}.pkl', 'rb') as f:
        return pickle.load(f)


def test_info_files(root):
    for split, count in (('train', 8), ('val', 4)):
        data = infos(root, split)
        assert data['metainfo'] == dict(
            categories={
                c: i
                for i, c in enumerate(SUNRGBD_CLASSES)
            },
            dataset='sunrgbd',
            info_version='1.1')
        assert len(data['data_list']) == count
        for info in data['data_list']:
            assert info['lidar_points']['num_pts_feats'] == 6
            cam = info['images']['CAM0']
            assert (cam['height'], cam['width']) == (120, 160)
            for inst in info['instances']:
                assert len(inst['bbox_3d']) == 7 and len(inst['bbox']) == 4
                assert inst['bbox_label'] == inst['bbox_label_3d']
    labels = [i['bbox_label_3d'] for d in infos(root, 'train')['data_list'] for i in d['instances']]
    assert set(labels) == set(range(10))


def test_train_pipeline_and_geometry(root, default_scope, tiny_dataset_cfg):
    default_scope('mmdet3d')
    from mmcv.ops import points_in_boxes_cpu

    cfg = tiny_dataset_cfg('sunrgbd', 'train', root)
    ds = build(cfg)
    assert len(ds) == 8
    torch.manual_seed(0)
    np.random.seed(0)
    sample = ds[1]
    raw = infos(root, 'train')['data_list'][1]
    gt = sample['data_samples'].gt_instances_3d
    assert sample['inputs']['points'].shape == (4096, 4)
    assert gt.bboxes_3d.tensor.shape == (len(raw['instances']), 7)
    assert gt.labels_3d.tolist() == [i['bbox_label_3d'] for i in raw['instances']]

    # Without augmentation: mmdet3d's yawed boxes have our corners, and the object points
    # fall inside them (mmcv's CPU points-in-boxes op).
    cfg['pipeline'] = [
        p for p in cfg['pipeline']
        if p['type'] in ('LoadPointsFromFile', 'LoadAnnotations3D', 'Pack3DDetInputs')
    ]
    sample = build(cfg)[1]
    boxes = sample['data_samples'].gt_instances_3d.bboxes_3d
    for k, inst in enumerate(raw['instances']):
        ours = box_corners(inst['bbox_3d'][:3], inst['bbox_3d'][3:6], inst['bbox_3d'][6])
        theirs = boxes.corners[k].numpy()
        # Same corner set (mmdet3d orders corners differently), so yaw sign and origin agree.
        assert np.linalg.norm(ours[:, None] - theirs[None], axis=2).min(1).max() < 1e-4
        flipped = box_corners(inst['bbox_3d'][:3], inst['bbox_3d'][3:6], -inst['bbox_3d'][6])
        assert np.linalg.norm(flipped[:, None] - theirs[None], axis=2).min(1).max() > 1e-2
        size = np.array(inst['bbox_3d'][3:6]) / np.array(SUNRGBD_MEAN_SIZES[inst['bbox_label_3d']])
        assert np.all(np.abs(size - 1) <= 0.1 + 1e-4)
    xyz = sample['inputs']['points'][:, :3].float()
    enlarged = boxes.tensor.clone()
    enlarged[:, 3:6] += 0.04
    inside = points_in_boxes_cpu(xyz[None], enlarged[None])[0].numpy().astype(bool)  # (N, K)
    points = np.fromfile(
        f'{root}/points/{raw["lidar_points"]["lidar_path"]}', dtype=np.float32).reshape(-1, 6)
    assert len(points) == len(xyz)
    # Object points carry their class colour (rgb in 0..1): they are the points in the boxes.
    colours = np.array(SUNRGBD_PALETTE + (FLOOR_RGB, WALL_RGB)) / 255
    nearest = np.argmin(np.linalg.norm(points[:, None, 3:] - colours[None], axis=2), axis=1)
    labels = np.array([inst['bbox_label_3d'] for inst in raw['instances']])
    for label in set(labels.tolist()):
        is_object = nearest == label
        assert is_object.sum() >= 32
        assert inside[is_object][:, labels == label].any(1).mean() > 0.97


def test_2d_boxes_project(root):
    """``bbox`` is the projection of the 3D box by ``depth2img`` (what ImVoteNet relies on)."""
    from PIL import Image
    for info in infos(root, 'val')['data_list']:
        cam = info['images']['CAM0']
        img = Image.open(f'{root}/sunrgbd_trainval/image/{cam["img_path"]}')
        assert img.size == (cam['width'], cam['height'])
        depth2img = np.array(cam['depth2img'])
        for inst in info['instances']:
            corners = box_corners(inst['bbox_3d'][:3], inst['bbox_3d'][3:6], inst['bbox_3d'][6])
            uvw = corners @ depth2img.T
            uv = uvw[:, :2] / uvw[:, 2:]
            x1, y1, x2, y2 = inst['bbox']
            assert x1 == pytest.approx(max(uv[:, 0].min(), 0), abs=1e-3)
            assert y2 == pytest.approx(min(uv[:, 1].max(), cam['height'] - 1), abs=1e-3)
            assert x2 > x1 and y2 > y1


def test_val_pipeline(root, default_scope, tiny_dataset_cfg):
    default_scope('mmdet3d')
    ds = build(tiny_dataset_cfg('sunrgbd', 'val', root))
    assert len(ds) == 4
    sample = ds[0]
    assert sample['inputs']['points'].shape == (4096, 4)
    ann = ds.get_data_info(0)['eval_ann_info']
    assert ann['gt_bboxes_3d'].tensor.shape[1] == 7 and ann['gt_bboxes_3d'].with_yaw
