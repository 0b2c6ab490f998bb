# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro on the tiny data: the loss falls (train steps; mmengine Runner), resume is exact.

The Runner tests take 30-60 s on two shared cores and are marked ``slow``; the step tests run by
default.
"""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner, set_random_seed

from dynamicnet.engine.runners import adapt_to_machine

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = osp.join(ROOT, 'configs', 'infopro')
sys.path.insert(0, osp.join(ROOT, 'tests', 'data'))  # loss_recorder.LossRecorderHook


def _runner(config, work_dir, data_root, **overrides):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0, deterministic=False)
    cfg.custom_hooks = [dict(type='loss_recorder.LossRecorderHook')]
    cfg.merge_from_dict(overrides)
    adapt_to_machine(cfg)
    return Runner.from_cfg(cfg)


def _losses(work_dir):
    with open(osp.join(work_dir, 'losses.json')) as f:
        return json.load(f)


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def _fixed_batch_losses(config, data_root, steps, **overrides):
    """Train ``steps`` steps of the config's model on its first tiny training batch."""
    from mmengine.registry import init_default_scope

    from dynamicnet.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    cfg.merge_from_dict(overrides)
    init_default_scope(cfg.default_scope)
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    model_cfg = cfg.model
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    set_random_seed(0)  # the pipelines' random augmentation
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.train()
    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    logs = [{k: float(v) for k, v in model.train_step(batch, wrapper).items()}
            for _ in range(steps)]
    return model, logs[-1], [log['loss'] for log in logs], logs


def test_tiny_imagenet_train_steps_lower_the_loss(tiny_data_root):
    model, log, losses, _ = _fixed_batch_losses(
        'resnet32-infopro-k4-contrast_1xb16_tiny-imagenet.py', tiny_data_root('imagenet'), 10)
    assert model.num_modules == 4
    assert {'loss_cls', 'local0.loss_recon', 'local2.loss_task'} <= set(log)
    assert losses[-1] < 0.8 * losses[0], losses


def test_tiny_imagenet_async_variant_lowers_the_loss(tiny_data_root):
    model, log, _, logs = _fixed_batch_losses(
        'resnet32-infopro-k4-contrast_1xb16_tiny-imagenet.py', tiny_data_root('imagenet'), 10,
        model=dict(async_cfg=dict(staleness=1)),
        optim_wrapper=dict(constructor='dynamicnet.InfoProOptimWrapperConstructor'))
    # with staleness 1, module k first runs in iteration k + 1: the last one in iteration 4
    assert 'local1.loss_recon' not in logs[0] and 'local1.loss_recon' in logs[1]
    assert 'loss_cls' not in logs[2] and 'loss_cls' in logs[3] and 'loss_cls' in log
    for term in ('local0.loss_recon', 'local1.loss_recon', 'local2.loss_task', 'loss_cls'):
        first = next(entry[term] for entry in logs if term in entry)
        assert log[term] < first, (term, first, log[term])


def test_tiny_cityscapes_train_steps_lower_the_loss(tiny_data_root):
    pytest.importorskip('mmseg')
    model, log, losses, _ = _fixed_batch_losses(
        'deeplabv3_r18-d8-infopro-k2_1xb2-40it_tiny-cityscapes.py', tiny_data_root('cityscapes'),
        8)
    assert model.num_modules == 2
    assert {'decode.loss_ce', 'aux.loss_ce', 'local0.loss_ce', 'local0.loss_recon'} <= set(log)
    assert losses[-1] < 0.85 * losses[0], losses


def test_tiny_imagenet_loss_falls_and_resume_is_exact(tmp_path, tiny_data_root):
    root = tiny_data_root('imagenet')
    config = 'resnet32-infopro-k4-contrast_1xb16_tiny-imagenet.py'
    # no random augmentation: mmengine does not restore the pipeline's RNG on resume
    fixed = dict(
        train_dataloader=dict(
            dataset=dict(pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])),
        val_cfg=None, val_dataloader=None, val_evaluator=None,
        default_hooks=dict(checkpoint=dict(interval=1)))
    straight = tmp_path / 'straight'
    runner = _runner(config, straight, root, train_cfg=dict(max_epochs=2, val_interval=100),
                     **fixed)
    assert runner.model.num_modules == 4
    runner.train()
    losses = _losses(straight)
    assert len(losses) == 2 * 9  # 144 images, batch 16
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert last < 0.85 * first, losses

    # an interrupted run (1 epoch) resumed to 2 epochs equals the straight run
    split = tmp_path / 'split'
    _runner(config, split, root, train_cfg=dict(max_epochs=1, val_interval=100), **fixed).train()
    _runner(config, split, root, train_cfg=dict(max_epochs=2, val_interval=100), resume=True,
            **fixed).train()
    a, b = _state(straight / 'epoch_2.pth'), _state(split / 'epoch_2.pth')
    assert a.keys() == b.keys()
    assert any(k.startswith('decoders.2.') for k in a)
    assert any(k.startswith('local_heads.2.') for k in a)
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-5, msg=key)


@pytest.mark.parametrize('config', [
    'deeplabv3_r18-d8-infopro-k2_1xb2-40it_tiny-cityscapes.py',
])
def test_tiny_cityscapes_loss_falls(tmp_path, tiny_data_root, config):
    pytest.importorskip('mmseg')
    root = tiny_data_root('cityscapes')
    runner = _runner(config, tmp_path, root, train_cfg=dict(max_iters=30, val_interval=100),
                     val_cfg=None, val_dataloader=None, val_evaluator=None)
    assert runner.model.num_modules == 2
    runner.train()
    losses = _losses(tmp_path)
    assert len(losses) == 30
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert last < 0.85 * first, losses
