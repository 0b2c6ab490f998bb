# Copyright (c) dynamicnet contributors. All rights reserved.
"""Bad input fails early with a message that names the key or path and the fix."""
import os.path as osp
import sys

import pytest
from mmengine.config import Config

from dynamicnet.engine.runners import adapt_to_machine, load_config, validate_config
from dynamicnet.utils.errors import (ConfigKeyTypeError, DataRootNotFoundError, UnknownTypeError,
                                     explain_unknown_type, friendly_errors)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_cls_gn.py')
sys.path.insert(0, osp.join(ROOT, 'tools'))


def test_unknown_type_names_scope_and_close_matches():
    from mmengine.registry import MODELS, DefaultScope

    import mmpretrain.registry  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        with pytest.raises(UnknownTypeError) as info:
            with friendly_errors():
                MODELS.build(dict(type='ImageClasifier', backbone=dict(type='ResNet', depth=18)))
    message = str(info.value)
    assert "'mmpretrain'" in message
    assert "type='ImageClassifier'" in message


def test_unknown_type_suggests_the_prefix_of_another_scope():
    message = explain_unknown_type(
        'FooBar is not in the mmdet::model registry. Please check whether ...')
    assert "scope 'mmdet'" in message
    text = explain_unknown_type('PointNet2SASG is not in the mmdet::model registry.')
    assert "type='mmdet3d.PointNet2SASSG'" in text


def test_unrelated_key_error_passes_through():
    with pytest.raises(KeyError, match='plain'):
        with friendly_errors():
            raise KeyError('plain')


def test_unknown_type_from_train_tool(tmp_path):
    import train as train_tool
    bad = tmp_path / 'bad.py'
    bad.write_text(f'_base_ = [{CONFIG!r}]\nmodel = dict(neck=dict(type="GlobalAveragePoolin"))\n')
    with pytest.raises(UnknownTypeError, match="GlobalAveragePooling"):
        train_tool.main([str(bad), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                         f'train_dataloader.dataset.data_root={tmp_path}',
                         f'val_dataloader.dataset.data_root={tmp_path}'])


def test_missing_data_root_names_generator_and_upstream_converter(tmp_path):
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2,
        dataset=dict(type='ScanNetDataset', data_root=str(tmp_path / 'scannet'))))))
    with pytest.raises(DataRootNotFoundError) as info:
        validate_config(cfg)
    message = str(info.value)
    assert 'train_dataloader.dataset.dataset.data_root' in message
    assert 'make_tiny_data.py scannet' in message
    assert 'create_data.py scannet' in message


def test_missing_data_root_of_unknown_dataset_lists_generators(tmp_path):
    dataset = dict(type='MyData', data_root=str(tmp_path / 'x'))
    cfg = Config(dict(val_dataloader=dict(dataset=dataset)))
    with pytest.raises(DataRootNotFoundError, match='make_tiny_data.py NAME'):
        validate_config(cfg)


@pytest.mark.parametrize('key,value,fragment', [
    ('train_cfg.max_epochs', '2', 'train_cfg.max_epochs'),
    ('train_dataloader.batch_size', 2.5, 'train_dataloader.batch_size'),
    ('optim_wrapper.optimizer.lr', 'fast', 'optim_wrapper.optimizer.lr'),
    ('resume', 'yes', 'resume'),
])
def test_wrongly_typed_key_is_named(key, value, fragment, tmp_path):
    cfg = load_config(CONFIG, {key: value, 'train_dataloader.dataset.data_root': str(tmp_path),
                               'val_dataloader.dataset.data_root': str(tmp_path),
                               'test_dataloader.dataset.data_root': str(tmp_path)})
    with pytest.raises(ConfigKeyTypeError, match=fragment.replace('.', r'\.')):
        validate_config(cfg)


def test_missing_config_file_suggests_configs_folder(tmp_path, monkeypatch):
    (tmp_path / 'configs' / 'x').mkdir(parents=True)
    (tmp_path / 'configs' / 'x' / 'a.py').write_text('a = 1\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="configs/x/a.py"):
        load_config('x/a.py')


def test_cpu_distributed_uses_gloo_and_cpu_ddp(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    adapt_to_machine(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    single = adapt_to_machine(Config(dict(launcher='none')))
    assert 'model_wrapper_cfg' not in single
