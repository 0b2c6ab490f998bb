# Copyright (c) dynamicnet contributors. All rights reserved.
"""Every config under configs/ loads and builds its model on CPU (openmmlab.md §3.4)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

import dynamicnet  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if f'{osp.sep}_base_{osp.sep}' not in p)


def test_there_are_configs():
    assert CONFIGS, 'no configs found'


@pytest.mark.parametrize('path', CONFIGS)
def test_config_loads_and_builds_model(path):
    cfg = Config.fromfile(osp.join(ROOT, path))
    assert 'model' in cfg, f'{path} has no model'
    scope = cfg.get('default_scope', None)
    assert scope is not None, f'{path} sets no default_scope (inherit an upstream default_runtime)'
    saved = DefaultScope._instance_dict.copy()
    try:
        init_default_scope(scope)
        from mmengine.registry import MODELS
        model = MODELS.build(cfg.model)
        assert sum(p.numel() for p in model.parameters()) > 0
    finally:
        DefaultScope._instance_dict = saved
