# Copyright (c) dynamicnet contributors. All rights reserved.
"""Every configs/infopro config loads, builds its model on CPU and has an end-to-end twin."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from dynamicnet.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG_DIR = osp.join(ROOT, 'configs', 'infopro')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))


def _twin(path):
    """The first config up the relative ``_base_`` chain that is not an InfoPro config."""
    while True:
        match = re.search(r"^_base_ = '\./(.+\.py)'", open(path).read(), re.M)
        if match is None:
            return None
        path = osp.join(CONFIG_DIR, match.group(1))
        if 'infopro' not in osp.basename(path):
            return path


def test_there_are_configs_for_every_setting_of_the_issue():
    names = {osp.basename(p) for p in CONFIGS}
    for depth in (32, 110):
        for k in (2, 4, 8, 16):
            for task in ('contrast', 'softmax'):
                assert f'resnet{depth}-infopro-k{k}-{task}_1xb1024_cifar10.py' in names
    for k in (2, 3, 4):
        assert f'resnet110-infoprostar-k{k}-contrast_1xb1024_cifar10.py' in names
        assert f'resnet110-infoprostar-k{k}-contrast_1xb128_stl10.py' in names
    for k in (2, 4, 8, 16):
        assert f'resnet110-infopro-k{k}-contrast_1xb128_stl10.py' in names
        assert f'resnet110-infopro-k{k}-contrast_1xb1024_svhn.py' in names
    assert 'resnet101-infoprostar-k2_8xb128_in1k.py' in names
    assert 'deeplabv3_r101-d8-infoprostar-k2_4xb2-40k_cityscapes-512x1024.py' in names
    for k in (2, 4):
        assert f'resnet110-asy-infopro-k{k}-contrast_1xb1024_cifar10.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_with_its_twin(path, default_scope):
    cfg = Config.fromfile(path)
    if cfg.default_scope == 'mmseg':
        pytest.importorskip('mmseg')
    default_scope(cfg.default_scope)
    model_cfg = cfg.model
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    name = osp.basename(path)
    match = re.search(r'-k(\d+)', name)
    k = int(match.group(1)) if match else 1
    assert getattr(model, 'num_modules', 1) == k
    if k > 1:
        assert len(model.decoders) == len(model.local_heads) == k - 1
        assert cfg.model_wrapper_cfg.type == 'dynamicnet.InfoProDistributedDataParallel'
        twin = _twin(path)
        assert twin is not None and osp.isfile(twin), 'InfoPro configs inherit their E2E twin'
        assert 'infopro' not in osp.basename(twin)
        assert Config.fromfile(twin).model.type in ('ImageClassifier', 'EncoderDecoder')
    assert model_cfg.get('pretrained') is None, 'configs must build offline'
    if 'asy-infopro' in name:
        from mmengine.optim import OptimWrapperDict, build_optim_wrapper
        assert model.async_cfg == dict(staleness=1)
        wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
        assert isinstance(wrappers, OptimWrapperDict) and len(wrappers) == k
