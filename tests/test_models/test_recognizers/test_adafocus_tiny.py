# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus configs on the tiny rawframe videos through mmengine's Runner.

Default run: stage 0 (glancer) then stage 1 (random patches) train with falling losses and the
stage-1 model evaluates far above chance (top-1, mAP, per-frame exits). Slow run: the whole chain
stage0-glancer -> stage0-focuser -> stage1 -> stage2 -> stage3 linked by ``load_from``, ending
with the AdaFocus+ budgeted test; the AdaFocusV2 config; the Something-Something (TSM) configs with
slim backbones on 64 px frames.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CHAIN = [
    'adafocus-r18-r18_stage0-glancer_1xb8_tiny-video',
    'adafocus-r18-r18_stage0-focuser_1xb8_tiny-video',
    'adafocus-r18-r18_p32_stage1_1xb8_tiny-video',
    'adafocus-r18-r18_p32_stage2_1xb8_tiny-video',
    'adafocus-r18-r18_p32_stage3_1xb8_tiny-video',
]


def _short_run(cfg, work_dir, epochs, load_from):
    """``cfg`` trained for ``epochs`` (a cosine schedule shortened to match), validated and
    saved at the end, logging every iteration, in ``work_dir``, from ``load_from``."""
    cfg.train_cfg.update(max_epochs=epochs, val_interval=epochs)
    if cfg.param_scheduler:
        cfg.param_scheduler.T_max = epochs
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.work_dir = str(work_dir)
    cfg.load_from = load_from
    cfg.log_level = 'WARNING'
    return cfg


def _cfg(name, data, work_dir, epochs, load_from=None, segments=None):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'adafocus', f'{name}.py'))
    if segments is not None:  # fewer frames per video: a faster run of the same config
        cfg.model.num_segments = segments
        cfg.model.test_cfg.cost_input_shape = (segments, 3, 64, 64)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.pipeline[0].num_clips = segments
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        split = 'train' if key.startswith('train') else 'val'
        cfg[key].dataset.ann_file = osp.join(data, f'{split}_list_rawframes.txt')
        cfg[key].dataset.data_prefix = dict(img=osp.join(data, 'rawframes'))
    if 'fit_dataloader' in cfg.test_cfg:
        fit = cfg.test_cfg.fit_dataloader.dataset.dataset
        fit.ann_file = osp.join(data, 'train_list_rawframes.txt')
        fit.data_prefix = dict(img=osp.join(data, 'rawframes'))
    return _short_run(cfg, work_dir, epochs, load_from)


def _epoch_losses(runner, key, iters_per_epoch):
    history = np.asarray(runner.message_hub.get_scalar(f'train/{key}').data[0])
    return history.reshape(-1, iters_per_epoch).mean(1)


def test_glancer_then_stage1_learn_above_chance(tiny_data_root, tmp_path):
    """The first links of the chain, 8 epochs each on 4 frames per video: stage 0 trains the
    glancer, stage 1 (loading it) the focuser and f_C on random patches. Both losses fall, and the
    stage-1 model, tested with its untrained argmax policy, is far above chance on the 24 val
    videos (chance: 16.7% top-1, about 28 mAP; measured 66.7% / 72.9, seed 0)."""
    data = tiny_data_root('video')
    glancer = Runner.from_cfg(
        _cfg(CHAIN[0], data, tmp_path / 'glancer', epochs=8, segments=4))
    glancer.train()
    losses = _epoch_losses(glancer, 'loss', 6)
    assert losses[-1] < losses[0] - 0.3, losses
    runner = Runner.from_cfg(
        _cfg(CHAIN[2], data, tmp_path / 'stage1', epochs=8, segments=4,
             load_from=str(tmp_path / 'glancer' / 'epoch_8.pth')))
    runner.train()
    losses = _epoch_losses(runner, 'loss', 6)
    assert losses[-1] < losses[0] - 0.3, losses
    metrics = runner.val_loop.run()
    assert metrics['accuracy/top1'] >= 40.0, metrics
    assert metrics['multi-label/mAP'] >= 50.0, metrics
    # the video prediction is the last frame's: the early-exit mAP of exit T is mmpretrain's mAP
    assert metrics['early_exit/exit4/mAP'] == pytest.approx(metrics['multi-label/mAP'], abs=1e-4)
    costs = metrics['early_exit/exit_costs']
    assert len(costs) == 4 and costs[-1] == pytest.approx(4 * costs[0])
    assert osp.exists(tmp_path / 'stage1' / 'epoch_8.pth')


@pytest.mark.slow
def test_stage_chain_and_adafocus_plus(tiny_data_root, tmp_path):
    data = tiny_data_root('video')
    epochs = dict(zip(CHAIN, (8, 8, 8, 2, 2)))
    previous = None
    for name in CHAIN:
        runner = Runner.from_cfg(_cfg(name, data, tmp_path / name, epochs[name], previous))
        runner.train()
        if previous is not None:
            # every stage after the first keeps the glancer frozen in eval mode: its weights and
            # BN statistics are exactly those load_from brought in
            ckpt = torch.load(previous, map_location='cpu', weights_only=False)['state_dict']
            state = runner.model.state_dict()
            glancer = [k for k in ckpt if k.startswith('global_backbone.')]
            assert glancer and all(torch.equal(state[k], ckpt[k]) for k in glancer), name
        if 'stage2' not in name and 'stage3' not in name:
            losses = _epoch_losses(runner, 'loss', 6)
            assert losses[-1] < losses[0], (name, losses)
        if 'stage2' in name:
            assert np.isfinite(runner.message_hub.get_scalar('train/reward').current())
        previous = str(tmp_path / name / f'epoch_{epochs[name]}.pth')
    metrics = runner.test()
    top1 = metrics['early_exit/budget/top1']
    macs = metrics['early_exit/budget/macs']
    costs = metrics['early_exit/exit_costs']
    assert len(top1) == len(macs) == len(metrics['early_exit/budget/mAP']) == 39
    assert all(costs[0] - 1 <= m <= costs[-1] + 1 for m in macs)
    assert metrics['early_exit/fit_size'] == 12
    # the trained chain is far above chance (16.7% top-1, about 28 mAP), also when exiting early
    assert metrics['accuracy/top1'] >= 40.0, metrics['accuracy/top1']
    assert min(metrics['early_exit/budget/mAP']) >= 50.0, metrics['early_exit/budget/mAP']


def test_adafocus_v2_tiny_trains(tiny_data_root, tmp_path):
    data = tiny_data_root('video')
    runner = Runner.from_cfg(
        _cfg('adafocusv2-mbv2-r18_p32_1xb8_tiny-video', data, tmp_path, epochs=4, segments=4))
    runner.train()
    losses = _epoch_losses(runner, 'loss', 6)
    assert losses[-1] < losses[0], losses
    assert len(runner.val_loop.run()['early_exit/exit_costs']) == 4


def _tsm_cfg(name, data, work_dir, epochs, load_from=None):
    """A Something-Something config run on the tiny videos: the same model type, stage, frame
    groups (8 + 12), transforms and optimiser, with slim backbones and 64 px frames."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'adafocus', f'{name}.py'))
    model = cfg.model.to_dict()
    model.update(
        global_backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8,
                             stem_channels=16, out_indices=(3, )),
        local_backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16,
                            out_indices=(3, )),
        global_channels=64, local_channels=128, num_classes=6, patch_size=32, input_size=64,
        policy=dict(hidden_dim=64, reduced_channels=16, std=0.25),
        test_cfg=dict(cost_input_shape=(20, 3, 64, 64)))
    cfg.model = model
    for key in ('train_dataloader', 'val_dataloader'):
        split = 'train' if key.startswith('train') else 'val'
        loader = cfg[key]
        loader.update(batch_size=8, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=data, ann_file=f'{split}_list_rawframes.txt',
                              filename_tmpl='img_{:05}.jpg')
        for t in loader.dataset.pipeline:
            if t.type == 'dynamicnet.MultiScaleCrop':
                t.input_size = 64
            elif t.type == 'dynamicnet.VideoResize':
                t.scale = (64, 64) if split == 'train' else (-1, 64)
            elif t.type == 'dynamicnet.VideoCenterCrop':
                t.crop_size = 64
    cfg.test_dataloader = cfg.val_dataloader
    return _short_run(cfg, work_dir, epochs, load_from)


def test_sthv1_tsm_configs_run_on_tiny_videos(tiny_data_root, tmp_path):
    """The Sth-Sth V1 stage-1 -> 2 -> 3 configs (P = 144 chain) on the tiny videos: stage 1 loss
    falls, PPO gives finite rewards, stage 3 evaluates with its per-video MACs."""
    data = tiny_data_root('video')
    names = [f'adafocus-tsm-mbv2-r50_p144_stage{k}_{b}_sthv1' for k, b in
             ((1, '2xb32'), (2, '1xb64'), (3, '2xb32'))]
    previous = None
    for name, epochs in zip(names, (6, 1, 1)):
        cfg = _tsm_cfg(name, data, tmp_path / name, epochs, previous)
        if 'stage1' in name:  # the tiny focuser trains from scratch: a larger rate than 5e-4
            cfg.optim_wrapper.optimizer.lr = 0.02
            cfg.optim_wrapper.paramwise_cfg.custom_keys.local_head.lr_mult = 1.0
        runner = Runner.from_cfg(cfg)
        runner.train()
        if 'stage1' in name:
            losses = _epoch_losses(runner, 'loss', 6)
            assert losses[-1] < losses[0], losses
        if 'stage2' in name:
            assert np.isfinite(runner.message_hub.get_scalar('train/reward').current())
        previous = str(tmp_path / name / f'epoch_{epochs}.pth')
    metrics = runner.val_loop.run()
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert runner.model.exit_costs()[0] > 0
