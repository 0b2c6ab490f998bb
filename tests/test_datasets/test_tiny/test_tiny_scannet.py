# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny ScanNet read by mmdet3d's unchanged ScanNetDataset with the base config's pipelines."""
import pickle

import numpy as np
import pytest
import torch

from dynamicnet.datasets.tiny.scannet import (SCANNET_CLASSES, SCANNET_MEAN_SIZES,
                                              SCANNET_NYU40_IDS)

pytest.importorskip('mmdet3d')


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('scannet')


def build(cfg):
    from mmengine.registry import DATASETS
    return DATASETS.build(cfg)


def infos(root, split):
    with open(f'{root}/scannet_infos_{split}.pkl', 'rb') as f:
        return pickle.load(f)


def test_info_files(root):
    for split, count in (('train', 32), ('val', 8)):
        data = infos(root, split)
        assert data['metainfo']['categories'] == {c: i for i, c in enumerate(SCANNET_CLASSES)}
        assert data['metainfo']['dataset'] == 'scannet'
        assert len(data['data_list']) == count
        for info in data['data_list']:
            n = len(
                np.fromfile(
                    f'{root}/points/{info["lidar_points"]["lidar_path"]}', dtype=np.float32)) // 6
            assert 5000 <= n <= 20000
            for mask in ('instance_mask', 'semantic_mask'):
                path = f'{root}/{mask}/{info["pts_" + mask + "_path"]}'
                assert len(np.fromfile(path, dtype=np.int64)) == n
            assert 1 <= len(info['instances']) <= 5  # 3-5 drawn; no free spot: left out
    # Every class occurs in the training set.
    labels = [i['bbox_label_3d'] for d in infos(root, 'train')['data_list'] for i in d['instances']]
    assert set(labels) == set(range(18))


def test_train_pipeline(root, default_scope, tiny_dataset_cfg):
    default_scope('mmdet3d')
    ds = build(tiny_dataset_cfg('scannet', 'train', root))
    assert len(ds) == 32
    torch.manual_seed(0)
    np.random.seed(0)
    sample = ds[0]
    instances = infos(root, 'train')['data_list'][0]['instances']
    gt = sample['data_samples'].gt_instances_3d
    assert sample['inputs']['points'].shape == (4096, 4)  # xyz + height
    assert gt.bboxes_3d.tensor.shape == (len(instances), 7)
    assert gt.labels_3d.tolist() == [i['bbox_label_3d'] for i in instances]
    # Class-specific sizes; the +-5 degree rotation can only grow an axis-aligned box.
    sizes = gt.bboxes_3d.dims.numpy()
    raw = np.array([i['bbox_3d'][3:] for i in instances])
    expected = np.array([SCANNET_MEAN_SIZES[i['bbox_label_3d']] for i in instances])
    assert np.all(np.abs(raw / expected - 1) <= 0.1 + 1e-6)
    assert np.all(sizes >= raw - 1e-4) and np.all(sizes <= raw * 1.2)
    seg = sample['data_samples'].gt_pts_seg
    assert seg.pts_semantic_mask.shape == (4096, )
    assert set(seg.pts_semantic_mask.unique().tolist()) <= set(range(19))


def test_alignment_and_masks(root, default_scope, tiny_dataset_cfg):
    """After GlobalAlignment every instance's points lie in its box and carry its class."""
    default_scope('mmdet3d')
    cfg = tiny_dataset_cfg('scannet', 'train', root)
    cfg['pipeline'] = [
        p for p in cfg['pipeline'] if p['type'] in ('LoadPointsFromFile', 'LoadAnnotations3D',
                                                    'GlobalAlignment', 'PointSegClassMapping')
    ]
    cfg['pipeline'].append(
        dict(
            type='Pack3DDetInputs',
            keys=[
                'points', 'gt_bboxes_3d', 'gt_labels_3d', 'pts_semantic_mask', 'pts_instance_mask'
            ]))
    ds = build(cfg)
    for index in (0, 5):
        sample = ds[index]
        xyz = sample['inputs']['points'][:, :3].numpy()
        seg = sample['data_samples'].gt_pts_seg
        inst, sem = seg.pts_instance_mask.numpy(), seg.pts_semantic_mask.numpy()
        boxes = sample['data_samples'].gt_instances_3d.bboxes_3d
        centres, dims = boxes.gravity_center.numpy(), boxes.dims.numpy()
        labels = sample['data_samples'].gt_instances_3d.labels_3d.numpy()
        for k in range(len(labels)):
            pts = xyz[inst == k + 1]
            assert len(pts) >= 64
            assert np.all(np.abs(pts - centres[k]) <= dims[k] / 2 + 0.03)
            assert np.all(sem[inst == k + 1] == labels[k])
        assert np.all(sem[inst == 0] == 18)  # floor and walls: unannotated classes
        assert abs(np.percentile(xyz[inst == 0, 2], 1)) < 0.05  # the floor is at z = 0


def test_val_pipeline_and_metric(root, default_scope, tiny_dataset_cfg):
    """The test pipeline feeds IndoorMetric; ground truth as prediction scores mAP 1."""
    default_scope('mmdet3d')
    from mmdet3d.evaluation import IndoorMetric
    from mmdet3d.structures import DepthInstance3DBoxes

    ds = build(tiny_dataset_cfg('scannet', 'val', root))
    assert len(ds) == 8
    metric = IndoorMetric()
    metric.dataset_meta = ds.metainfo
    for i in range(len(ds)):
        assert ds[i]['inputs']['points'].shape == (4096, 4)
        ann = ds.get_data_info(i)['eval_ann_info']
        boxes = ann['gt_bboxes_3d'].tensor.clone()
        pred = dict(
            bboxes_3d=DepthInstance3DBoxes(boxes, box_dim=7, with_yaw=False),
            labels_3d=torch.as_tensor(ann['gt_labels_3d']),
            scores_3d=torch.ones(len(boxes)))
        metric.process({}, [dict(pred_instances_3d=pred, eval_ann_info=ann)])
    result = metric.compute_metrics(metric.results)
    assert result['mAP_0.25'] == pytest.approx(1.0)
    assert result['mAP_0.50'] == pytest.approx(1.0)


def test_class_colour_separable(root):
    """Learnability: nearest-class-mean colour of the instance points recovers the class."""
    means, rows = np.zeros((18, 3)), []
    for split in ('train', 'val'):
        for info in infos(root, split)['data_list']:
            pts = np.fromfile(
                f'{root}/points/{info["lidar_points"]["lidar_path"]}',
                dtype=np.float32).reshape(-1, 6)
            sem = np.fromfile(
                f'{root}/semantic_mask/{info["pts_semantic_mask_path"]}', dtype=np.int64)
            for k, inst in enumerate(info['instances']):
                colour = pts[sem == SCANNET_NYU40_IDS[inst['bbox_label_3d']], 3:].mean(0)
                rows.append((split, inst['bbox_label_3d'], colour))
    for c in range(18):
        means[c] = np.mean([r[2] for r in rows if r[0] == 'train' and r[1] == c], axis=0)
    val = [r for r in rows if r[0] == 'val']
    pred = [np.argmin(np.linalg.norm(means - r[2], axis=1)) for r in val]
    assert np.mean([p == r[1] for p, r in zip(pred, val)]) == 1.0
