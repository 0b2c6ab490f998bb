# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny COCO read by mmdet's unchanged CocoDataset with the base config's pipelines."""
import json

import numpy as np
import pytest

pytest.importorskip('mmdet')
pytest.importorskip('pycocotools')


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('coco')


def build(cfg):
    from mmengine.registry import DATASETS
    return DATASETS.build(cfg)


def annotations(root, split):
    with open(f'{root}/annotations/instances_{split}2017.json') as f:
        return json.load(f)


def test_json(root):
    for split, count in (('train', 16), ('val', 8)):
        data = annotations(root, split)
        assert len(data['images']) == count
        ids = [a['id'] for a in data['annotations']]
        assert len(ids) == len(set(ids))
        for ann in data['annotations']:
            x, y, w, h = ann['bbox']
            assert w >= 8 and h >= 8 and ann['area'] > 0 and ann['iscrowd'] == 0
            poly = np.array(ann['segmentation'][0]).reshape(-1, 2)
            assert np.allclose(poly.min(0), (x, y), atol=0.02)
        for img in data['images']:
            assert min(img['width'], img['height']) >= 32
    assert [c['name'] for c in data['categories']] == ['person', 'car', 'stop sign', 'sports ball']


@pytest.mark.parametrize('split', ['train', 'val'])
def test_dataset(root, split, default_scope, tiny_dataset_cfg):
    default_scope('mmdet')
    ds = build(tiny_dataset_cfg('coco', split, root))
    data = annotations(root, split)
    assert len(ds) == len(data['images'])
    assert ds.metainfo['classes'] == ('person', 'car', 'stop sign', 'sports ball')
    boxes = sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds)))
    assert boxes == len(data['annotations'])
    sample = ds[0]
    gt = sample['data_samples'].gt_instances
    info = ds.get_data_info(0)
    assert sample['inputs'].shape[0] == 3 and min(sample['inputs'].shape[1:]) >= 96
    assert len(gt.bboxes) == len(info['instances'])
    assert set(gt.labels.tolist()) <= {0, 1, 2, 3}


def test_metric_accepts_ground_truth(root, default_scope, tiny_dataset_cfg, tiny_base_cfg):
    """CocoMetric of the base config scores the ground truth as bbox mAP 1."""
    default_scope('mmdet')
    import torch
    from mmengine.registry import METRICS

    ds = build(tiny_dataset_cfg('coco', 'val', root))
    cfg = tiny_base_cfg('coco').val_evaluator.to_dict()
    cfg['ann_file'] = f'{root}/annotations/instances_val2017.json'
    metric = METRICS.build(cfg)
    metric.dataset_meta = ds.metainfo
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        boxes = torch.tensor([inst['bbox'] for inst in info['instances']], dtype=torch.float32)
        labels = torch.tensor([inst['bbox_label'] for inst in info['instances']])
        pred = dict(bboxes=boxes, labels=labels, scores=torch.ones(len(labels)))
        metric.process({}, [
            dict(
                img_id=info['img_id'],
                ori_shape=(info['height'], info['width']),
                pred_instances=pred)
        ])
    result = metric.compute_metrics(metric.results)
    assert result['bbox_mAP'] == pytest.approx(1.0)


def test_class_specific_size_and_colour(root):
    """Learnability: box aspect ratio and mean colour inside the box identify the category."""
    from PIL import Image
    feats = {'train': [], 'val': []}
    for split in feats:
        data = annotations(root, split)
        files = {img['id']: img['file_name'] for img in data['images']}
        for ann in data['annotations']:
            img = np.asarray(Image.open(f'{root}/{split}2017/{files[ann["image_id"]]}'))
            x, y, w, h = (int(round(v)) for v in ann['bbox'])
            centre = img[y + h // 2 - 2:y + h // 2 + 2, x + w // 2 - 2:x + w // 2 + 2]
            feats[split].append((ann['category_id'], np.r_[centre.reshape(-1, 3).mean(0),
                                                           100 * np.log(w / h)]))
    cats = sorted({c for c, _ in feats['train']})
    means = np.array([np.mean([f for c, f in feats['train'] if c == k], 0) for k in cats])
    pred = [cats[np.argmin(np.linalg.norm(means - f, axis=1))] for _, f in feats['val']]
    assert np.mean([p == c for p, (c, _) in zip(pred, feats['val'])]) == 1.0
