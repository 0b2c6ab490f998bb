# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus configs: stage chain by load_from, per-stage optimisers, data pipeline, evaluators.

Model building for every config is covered by ``tests/test_configs/test_all_configs.py``.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'adafocus', 'adafocus-*.py')))


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
