# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/train.py: --cfg-options, --work-dir, checkpoints, exact --resume, tools/test.py."""
import os
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_cls_gn.py')
sys.path.insert(0, osp.join(ROOT, 'tools'))

import test as test_tool  # noqa: E402
import train as train_tool  # noqa: E402


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def _train(work_dir, data_root, *extra):
    train_tool.main([
        CONFIG, '--work-dir', str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', *extra
    ])


def test_resume_continues_exactly(tmp_path, tiny_data_root):
    data_root = tiny_data_root('imagenet')
    _train(tmp_path / 'straight', data_root, 'train_cfg.max_epochs=2')
    _train(tmp_path / 'split', data_root, 'train_cfg.max_epochs=1')
    # The first run stopped after epoch 1 (an interrupted run); --resume picks its last checkpoint
    # (weights, optimizer, scheduler, message hub, sampler epoch) and trains epoch 2.
    train_tool.main([
        CONFIG, '--work-dir', str(tmp_path / 'split'), '--resume', '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', 'train_cfg.max_epochs=2'
    ])
    straight = _state(tmp_path / 'straight' / 'epoch_2.pth')
    resumed = _state(tmp_path / 'split' / 'epoch_2.pth')
    assert straight.keys() == resumed.keys()
    for key in straight:
        torch.testing.assert_close(resumed[key], straight[key], rtol=0, atol=1e-6, msg=key)
    # The model learned something: its weights moved from epoch 1.
    first = _state(tmp_path / 'split' / 'epoch_1.pth')
    assert any(not torch.equal(first[k], resumed[k]) for k in first)

    metrics = test_tool.main([
        CONFIG, str(tmp_path / 'split' / 'epoch_2.pth'), '--work-dir', str(tmp_path / 'test'),
        '--cfg-options', f'test_dataloader.dataset.data_root={data_root}'
    ])
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0


def test_resume_from_missing_checkpoint_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        train_tool.main([CONFIG, '--resume', str(tmp_path / 'nope.pth')])


def test_amp_flag_switches_optim_wrapper(tmp_path):
    args = train_tool.parse_args([CONFIG, '--amp', '--work-dir', str(tmp_path)])
    from dynamicnet.engine.runners import apply_train_args, load_config
    cfg = apply_train_args(load_config(CONFIG), args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.work_dir == str(tmp_path)


def test_default_work_dir_is_config_stem(monkeypatch):
    from dynamicnet.engine.runners import apply_train_args, load_config
    args = train_tool.parse_args([CONFIG])
    cfg = apply_train_args(load_config(CONFIG), args)
    assert cfg.work_dir == osp.join('./work_dirs', 'tiny_cls_gn')
    assert os.environ['LOCAL_RANK'] == '0'
