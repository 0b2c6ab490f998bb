# Copyright (c) dynamicnet contributors. All rights reserved.
"""Every MSDNet / GFNet config loads; every model builds on CPU (real-dataset configs too).

The GFNet stage-2/3 configs build the same model as their stage 1 with another
``training_stage``; only the tiny ones are built again (ImageNet encoders take seconds each).
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'msdnet', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'gfnet', '*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config_loads_and_builds(path, default_scope):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.test_cfg.type == 'dynamicnet.EarlyExitTestLoop'
    assert cfg.test_evaluator.type == 'dynamicnet.EarlyExitMetric'
    assert 'topk' not in cfg.test_evaluator
    name = osp.basename(path)
    if '_stage' in name:
        stage = int(name.split('_stage')[1][0])
        assert cfg.model.training_stage == stage
        if stage > 1:
            assert f'_stage{stage - 1}_' in cfg.load_from and cfg.load_from.endswith('.pth')
        if stage == 2:
            assert cfg.optim_wrapper.optimizer.type == 'Adam'
            assert cfg.optim_wrapper.optimizer.lr == 3e-4
        if stage > 1 and 'tiny' not in name:
            return
    default_scope(cfg.default_scope)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert model.num_exits == len(model.exit_weights or [0] * model.num_exits)
    if 'tiny' in name:
        shape = tuple(cfg.model.test_cfg.cost_input_shape)
        with torch.no_grad():
            out = model.eval()(torch.zeros(2, *shape), mode='tensor')
        assert out.shape[:2] == (model.num_exits, 2)
