# Copyright (c) dynamicnet contributors. All rights reserved.
"""The tiny few-shot and FOT configs run on the Runner (pre-training, meta-test, FOT stages)."""
import os.path as osp

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = 'baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot'


def load(rel_path: str, data_root: str, work_dir) -> Config:
    """The config with its tiny data root redirected and logging quietened."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel_path))

    def redirect(node):
        if isinstance(node, dict):
            return ConfigDict({k: redirect(v) for k, v in node.items()})
        if isinstance(node, (list, tuple)):
            return type(node)(redirect(v) for v in node)
        if isinstance(node, str) and node.startswith('data/tiny/fewshot'):
            return node.replace('data/tiny/fewshot', data_root, 1)
        return node

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_cfg', 'test_cfg'):
        if cfg.get(key):
            cfg[key] = redirect(cfg[key])
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    return cfg


@pytest.fixture
def data_root(tiny_data_root):
    return tiny_data_root('fewshot')


def test_tiny_baseline_config_trains_and_meta_tests(data_root, tmp_path):
    cfg = load(f'fewshot/{TINY}_5way-1shot-transductive.py', data_root, tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.val_dataloader.dataset.num_episodes = 2
    cfg.test_dataloader.dataset.num_episodes = 2
    cfg.test_cfg.head.num_epochs = 5
    cfg.val_cfg.head.num_epochs = 5
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert metrics['fewshot/num_episodes'] == 2
    assert 0 <= metrics['fewshot/accuracy'] <= 100
    assert runner.test_loop.setting == 'transductive'


def test_tiny_fot_stage_configs_train(data_root, tmp_path):
    for name in ('fot-extractor_unet-tiny_1xb16-40e_tiny-fewshot-base.py',
                 'fot-generator_unet-tiny_1xb16-10e_tiny-fewshot-base.py'):
        cfg = load(f'fot/{name}', data_root, tmp_path / name)
        cfg.model.base_channels = 4
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
        cfg.param_scheduler = []
        runner = Runner.from_cfg(cfg)
        runner.train()
        assert runner.iter == 2


def test_tiny_fot_config_meta_tests(data_root, tmp_path):
    cfg = load(f'fot/fot-{TINY}_5way-1shot.py', data_root, tmp_path)
    fot = cfg.test_cfg.episode_transform
    for part in (fot.extractor, fot.generator):  # untrained networks: no checkpoints here
        part.pop('init_cfg')
        part.base_channels = 4
    fot.num_postures = 4
    fot.n_aug = 1
    cfg.test_dataloader.dataset.num_episodes = 1
    cfg.test_cfg.head.num_epochs = 2
    cfg.test_cfg.out_file = str(tmp_path / 'episodes.json')
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert metrics['fewshot/num_episodes'] == 1
    assert runner.test_loop.episode_transform.n_aug == 1
