# Copyright (c) dynamicnet contributors. All rights reserved.
"""Few-shot and FOT configs: the protocol they encode, and the tiny ones run on the Runner."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from dynamicnet.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = 'baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot'
META_TEST = sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for folder in ('fewshot', 'fot') for p in glob.glob(osp.join(ROOT, 'configs', folder, '*.py'))
    if '_5way-' in p)


def nodes(node):
    """Every dict in a config tree."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from nodes(item)


@pytest.mark.parametrize('path', META_TEST)
def test_meta_test_configs_follow_the_protocol(path):
    """5-way, 15 queries, 600 seeded episodes (fot.md §4.4-§5), k_shot and setting by name."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', path))
    k_shot = int(re.search(r'5way-(\d)shot', path).group(1))
    episodes = cfg.test_dataloader.dataset
    assert episodes.type == 'dynamicnet.EpisodicDataset'
    assert (episodes.n_way, episodes.k_shot, episodes.n_query) == (5, k_shot, 15)
    assert (episodes.num_episodes, episodes.episode_seed) == (600, 0)
    # Validation during pre-training: the same protocol on the val classes (the tiny CPU configs
    # validate on 50 episodes).
    val = cfg.val_dataloader.dataset
    assert (val.n_way, val.k_shot, val.n_query, val.episode_seed) == (5, k_shot, 15, 0)
    assert val.num_episodes == (50 if 'tiny' in path else 600)
    setting = 'transductive' if path.endswith('-transductive.py') else 'inductive'
    assert cfg.test_cfg.setting == cfg.val_cfg.setting == setting
    assert cfg.test_cfg.get('episode_transform') is None or path.startswith('fot/')


@pytest.mark.parametrize('path', [p for p in META_TEST if p.startswith('fewshot/')])
def test_class_splits_come_from_one_key(path):
    """Editing `class_splits` of a dataset base changes every split of the config."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', path))
    wrappers = [n for n in nodes(cfg._cfg_dict) if n.get('type') == 'dynamicnet.ClassSplitDataset']
    if 'mini-imagenet' in path:  # split by folders
        assert not wrappers
        return
    # base pre-training, val and novel episodes, FOT's base-class training data and posture bank
    assert len(wrappers) == 5
    assert all(w.class_splits == cfg.class_splits for w in wrappers)
    assert {w.split for w in wrappers} == {'base', 'val', 'novel'}


def state_shapes(cfg: dict) -> dict:
    model = MODELS.build(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()
            if not k.startswith('data_preprocessor.')}


def assert_built_like_its_stage(net: dict) -> None:
    """A network loading ``work_dirs/<stage>/epoch_N.pth`` has the architecture of ``<stage>``."""
    stage = re.match(r'work_dirs/([^/]+)/epoch_\d+\.pth$', net.init_cfg.checkpoint).group(1)
    trained = dict(Config.fromfile(osp.join(ROOT, 'configs', 'fot', stage + '.py')).model,
                   init_cfg=None)
    trained.pop('mask_extractor', None)  # a training-time helper of the generator
    assert state_shapes(dict(net, init_cfg=None)) == state_shapes(trained), stage


FOT_STAGE_USERS = [p for p in META_TEST if p.startswith('fot/')] + sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for p in glob.glob(osp.join(ROOT, 'configs', 'fot', 'fot-generator_*.py')))


@pytest.mark.parametrize('path', FOT_STAGE_USERS)
def test_fot_checkpoints_meet_the_architecture_they_were_trained_with(path):
    """Pretrained init loads non-strictly, so a mismatch would silently leave layers random."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', path))
    init_default_scope('dynamicnet')
    if path.startswith('fot/fot-generator_'):
        nets = [cfg.model.mask_extractor] if cfg.model.get('mask_extractor') else []
    else:
        nets = [cfg.test_cfg.episode_transform[part] for part in ('extractor', 'generator')]
    for net in nets:
        if 'init_cfg' in net:  # not GTMaskExtractor
            assert_built_like_its_stage(net)


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
