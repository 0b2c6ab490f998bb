# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus configs: stage chain by load_from, per-stage optimisers, data pipeline, evaluators.

Model building for every config is covered by ``tests/test_configs/test_all_configs.py``.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TSM_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'adafocus', 'adafocus-tsm-*.py')))
CONFIGS = sorted(
    set(glob.glob(osp.join(ROOT, 'configs', 'adafocus', 'adafocus-*.py'))) - set(TSM_CONFIGS))


def _stage(name):
    return 0 if '_stage0-' in name else int(name.split('_stage')[1][0])


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_stage_chain(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)[:-3]
    stage = _stage(name)
    assert cfg.default_scope == 'mmpretrain' and cfg.model.type == 'dynamicnet.AdaFocus'
    assert cfg.model.training_stage == stage
    dataset = name.rsplit('_', 1)[1]
    previous = {
        0: '_stage0-glancer_',
        1: '_stage0-focuser_',
        2: f'_p{cfg.model.patch_size}_stage1_',
        3: f'_p{cfg.model.patch_size}_stage2_',
    }[stage]
    if 'glancer' in name:
        assert cfg.load_from is None and cfg.model.init_target == 'global'
    else:
        assert previous in cfg.load_from and f'_{dataset}/' in cfg.load_from
        assert cfg.load_from.endswith('.pth')
    if 'focuser' in name:
        assert cfg.model.init_target == 'local'
    optimizer = cfg.optim_wrapper.optimizer
    if stage == 2:
        assert optimizer.type == 'Adam' and optimizer.lr == 3e-4
        assert cfg.model.policy.get('gamma', 0.7) == 0.7
    elif stage == 3:
        assert cfg.model.stage3_trainable == ('cls_head', )
        evaluators = [e['type'] for e in cfg.test_evaluator]
        assert 'dynamicnet.EarlyExitMetric' in evaluators
        assert cfg.test_cfg.type == 'dynamicnet.EarlyExitTestLoop'
    segments = cfg.model.num_segments
    train = cfg.train_dataloader.dataset
    assert train.type == 'dynamicnet.RawframeDataset' and train.check_frames
    sample = train.pipeline[0]
    assert sample.type == 'dynamicnet.SampleFrames' and sample.num_clips == segments
    assert sample.clip_len == 1 and not sample.get('test_mode', False)
    assert cfg.val_dataloader.dataset.pipeline[0].test_mode
    if 'tiny' not in name:
        assert segments == 16 and cfg.model.input_size == 224
        assert cfg.model.patch_size in (96, 128, 160, 192)
        crop = train.pipeline[2]
        assert crop.scales == (1, 0.875, 0.75, 0.66) and crop.num_fixed_crops == 13
        assert any(t.type == 'dynamicnet.VideoFlip' for t in train.pipeline)
        metric = cfg.val_evaluator.type if isinstance(cfg.val_evaluator, dict) else None
        assert metric == ('AveragePrecision' if dataset == 'activitynet' else 'Accuracy')


@pytest.mark.parametrize('path', TSM_CONFIGS, ids=[osp.basename(p) for p in TSM_CONFIGS])
def test_tsm_stage_chain(path):
    """Something-Something: stages chained per dataset and P, the spec's frame counts, patch
    sizes, stage-2/3 recipes, TSN groups without flip."""
    cfg = Config.fromfile(path)
    name = osp.basename(path)[:-3]
    stage = _stage(name)
    dataset = name.rsplit('_', 1)[1]
    model = cfg.model
    assert cfg.default_scope == 'mmpretrain' and model.type == 'dynamicnet.AdaFocusTSM'
    assert model.training_stage == stage and model.num_classes == 174
    assert model.glance_segments == 8 and model.focus_segments == 12 and model.shift_div == 8
    assert model.global_backbone.type == 'mmpretrain.MobileNetV2'
    assert model.local_backbone.type == 'mmpretrain.ResNet' and model.local_backbone.depth == 50
    previous = {
        0: '_stage0-glancer_',
        1: '_stage0-focuser_',
        2: f'_p{model.patch_size}_stage1_',
        3: f'_p{model.patch_size}_stage2_',
    }[stage]
    if 'glancer' in name:
        assert cfg.load_from is None and model.init_target == 'global'
        assert model.global_backbone.init_cfg.type == 'Pretrained'
    else:
        assert previous in cfg.load_from and cfg.load_from.endswith(f'_{dataset}/epoch_50.pth')
    if stage > 0:
        assert f'_p{model.patch_size}_' in name and model.patch_size in (144, 160, 176)
    optimizer = cfg.optim_wrapper.optimizer
    if stage == 2:
        assert optimizer.type == 'Adam' and optimizer.lr == 3e-4 and model.policy.std == 0.25
        assert cfg.train_dataloader.batch_size == 64
    elif stage == 3:  # Sth-Sth stage-3 script: backbone lr 0 (frozen), fc lr 5e-4
        assert model.stage3_trainable == ('local_head', ) and optimizer.lr == 5e-4
    train = cfg.train_dataloader.dataset
    assert train.type == 'dynamicnet.RawframeDataset' and train.check_frames
    assert train.data_root == f'data/{dataset}/'
    groups = train.pipeline[0]
    assert groups.type == 'dynamicnet.SampleFrameGroups' and groups.num_clips == (8, 12)
    assert not any(t.type == 'dynamicnet.VideoFlip' for t in train.pipeline)
    assert cfg.val_dataloader.dataset.pipeline[0].test_mode
    assert cfg.val_evaluator == dict(type='Accuracy', topk=(1, 5))


def test_sth_pipeline_on_tiny_rawframes(tiny_data_root):
    """The Sth-Sth V1 pipelines read mmaction2 rawframe lists into (8 + 12, 3, 224, 224)."""
    from dynamicnet.datasets import RawframeDataset
    data = tiny_data_root('video')
    cfg = Config.fromfile(TSM_CONFIGS[0])
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        args = loader.dataset.to_dict()
        args.pop('type')
        args.update(
            data_root=data, ann_file='val_list_rawframes.txt', filename_tmpl='img_{:05}.jpg')
        sample = RawframeDataset(**args)[0]
        assert sample['inputs'].shape == (20, 3, 224, 224)
        assert len(sample['data_samples'].frame_inds) == 20
