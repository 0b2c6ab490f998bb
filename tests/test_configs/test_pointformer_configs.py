# Copyright (c) dynamicnet contributors. All rights reserved.
"""Pointformer / VoteNet configs load, carry the official recipe and build on CPU from every
upstream scope."""
import glob
import os.path as osp

import pytest

pytest.importorskip('mmdet3d')

from mmengine.config import Config  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'pointformer', '*.py')) +
                 glob.glob(osp.join(ROOT, 'configs', 'votenet', '*.py')))


def _load(name: str) -> Config:
    return Config.fromfile(osp.join(ROOT, 'configs', name))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config_loads_and_builds_model(path, default_scope):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet3d'
    assert 'dynamicnet.ops.mmdet3d_dispatch' in cfg.custom_imports['imports']
    default_scope(cfg.default_scope)
    from mmdet3d.registry import MODELS
    model = MODELS.build(cfg.model)
    expected = 'PointNet2SASSG' if '/votenet/' in path else 'Pointformer'
    assert type(model.backbone).__name__ == expected


def test_scannet_recipe_matches_the_official_config():
    cfg = _load('pointformer/votenet_pointformer_8xb2_scannet-3d.py')
    backbone = cfg.model.backbone
    assert backbone.type == 'dynamicnet.Pointformer'
    assert backbone.num_samples == (64, 32, 16, 16) and backbone.num_heads == 8
    assert backbone.prenorm and backbone.global_drop == 0.2 and backbone.local_drop == 0.0
    assert not backbone.use_decoder and not backbone.coord_refine
    coder = cfg.model.bbox_head.bbox_coder
    assert coder.num_dir_bins == 24 and not coder.with_rot and coder.num_sizes == 18
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.train_dataloader.dataset.type == 'RepeatDataset'
    assert cfg.train_dataloader.dataset.times == 5
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-3, weight_decay=0.1)
    assert cfg.optim_wrapper.clip_grad.max_norm == 10
    assert cfg.train_cfg.max_epochs == 48
    assert cfg.param_scheduler[0].milestones == [32, 40] and cfg.param_scheduler[0].gamma == 0.3
    assert _load('pointformer/votenet_scannet.py').model == cfg.model


def test_sunrgbd_recipe_matches_the_official_config():
    cfg = _load('pointformer/votenet_pointformer_8xb5_sunrgbd-3d.py')
    backbone = cfg.model.backbone
    assert backbone.num_samples == (16, 16, 16, 16) and backbone.num_heads == 4
    assert not backbone.prenorm and backbone.global_drop == 0.1
    coder = cfg.model.bbox_head.bbox_coder
    assert coder.num_dir_bins == 12 and coder.with_rot and coder.num_sizes == 10
    assert cfg.train_dataloader.batch_size == 5
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=3e-4, weight_decay=0.05)
    assert cfg.train_cfg.max_epochs == 36
    assert cfg.param_scheduler[0].milestones == [24, 32] and cfg.param_scheduler[0].gamma == 0.3
    assert cfg.train_dataloader.dataset.times == 5


@pytest.mark.parametrize('scope', ['mmdet3d', 'mmdet', 'mmpretrain', 'mmengine'])
def test_pointformer_reachable_from_every_scope(scope, default_scope):
    default_scope(scope)
    from mmengine.registry import MODELS
    model = MODELS.build(dict(type='dynamicnet.Pointformer', num_points=(64, 32, 16, 8)))
    assert type(model).__name__ == 'Pointformer'
    neck = MODELS.build(dict(type='dynamicnet.PointformerNeck'))
    assert type(neck).__name__ == 'PointformerNeck'


def test_tiny_config_dataset_builds(tiny_data_root, default_scope):
    cfg = _load('pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py')
    default_scope(cfg.default_scope)
    from mmdet3d.registry import DATASETS
    root = tiny_data_root('scannet') + '/'
    cfg.train_dataloader.dataset.dataset.data_root = root
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    sample = dataset[0]
    points = sample['inputs']['points']
    assert points.shape == (cfg.num_points, 4)  # xyz + height
    assert len(sample['data_samples'].gt_instances_3d.labels_3d) >= 1
