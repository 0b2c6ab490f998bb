# Copyright (c) dynamicnet contributors. All rights reserved.
"""ISDA and CAM-loss configs: every config loads and builds its model on CPU; the tiny-data
variants train briefly through :class:`mmengine.runner.Runner` in each upstream task."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import dynamicnet  # noqa: F401  (registries, compat patches)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'isda', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'camloss', '*.py')))


def _build(cfg: Config) -> torch.nn.Module:
    from mmengine.registry import MODELS
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmengine')):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    if 'mmseg' in cfg.get('default_scope', ''):
        pytest.importorskip('mmseg')
    model = _build(cfg)
    name = osp.basename(path)
    if 'isda' in name:
        isda = [m for n, m in model.named_modules() if n.endswith('isda')]
        assert isda, 'no ISDA loss in the model'
        cov = isda[0].estimator.covariance
        assert cov == ('full' if 'cifar' in name or 'tiny-imagenet' in name else 'diagonal')
        if 'cityscapes' in name:
            assert len(isda) == 2 and isda[0].estimator is not isda[1].estimator
            assert isda[0].lambda0 == 7.5 and isda[0].schedule == 'iter'
        if 'in1k' in name:
            assert isda[0].lambda0 == 7.5 and cov == 'diagonal'
        if 'cifar' in name:
            assert isda[0].lambda0 == 0.5 and isda[0].schedule == 'epoch'
    if name.startswith('wrn28-10'):
        params = sum(p.numel() for p in model.parameters())
        assert params == pytest.approx(36.5e6, rel=0.01)           # WRN paper: 36.5 M
    if 'camloss' in name or 'caam' in name:
        head_cfg = cfg.model.head
        assert head_cfg.type == 'dynamicnet.CAMLossClsHead'
        assert (head_cfg.cam_cfg.alpha > 0) == ('camloss' in name)


NO_VAL = dict(val_cfg=None, val_dataloader=None, val_evaluator=None)


def _tiny_runner(config, tmp_path, data_root, **overrides):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    cfg.work_dir = str(tmp_path)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    if 'ann_file' in cfg.get('val_evaluator', {}):
        cfg.val_evaluator.ann_file = osp.join(data_root, 'annotations/instances_val2017.json')
        cfg.test_evaluator = cfg.val_evaluator
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


def _loss_history(runner, key='loss'):
    return runner.message_hub.get_scalar(f'train/{key}').data[0]


@pytest.mark.parametrize('config', ['isda/resnet20-isda_1xb16-4e_tiny-imagenet.py',
                                    'camloss/resnet20-camloss_1xb16-4e_tiny-imagenet.py'])
def test_tiny_classification_run(config, tmp_path, tiny_data_root):
    runner = _tiny_runner(config, tmp_path, tiny_data_root('imagenet'))
    runner.train()
    losses = _loss_history(runner)
    assert losses[-9:].mean() < 0.8 * losses[:9].mean()
    metrics = runner.val()
    assert metrics['accuracy/top1'] > 50.0                      # chance is 16.7 % (6 classes)
    head = runner.model.head
    if hasattr(head, 'isda'):
        # 144 training images x 4 epochs; counts are never reset; state is checkpointed.
        assert int(head.isda.estimator.count.sum()) == 144 * 4
        assert head.isda.ratio == pytest.approx(0.5 * 3 / 4)
        ckpt = torch.load(osp.join(str(tmp_path), 'epoch_4.pth'), map_location='cpu')
        for name in ('mean', 'cov', 'count'):
            assert torch.equal(ckpt['state_dict'][f'head.isda.estimator.{name}'],
                               getattr(head.isda.estimator, name))
    else:
        assert (_loss_history(runner, 'loss_cam') > 0).all()


@pytest.mark.parametrize('iters', [
    pytest.param(4, id='wiring'),
    pytest.param(40, id='training'),
])
def test_tiny_segmentation_run(iters, tmp_path, tiny_data_root):
    pytest.importorskip('mmseg')
    runner = _tiny_runner(
        'isda/deeplabv3_r18-d8-isda_tiny-cityscapes.py', tmp_path, tiny_data_root('cityscapes'),
        **NO_VAL, **{'train_cfg.max_iters': iters, 'param_scheduler.0.end': iters,
                     'default_hooks.checkpoint.interval': iters})
    runner.train()
    losses = _loss_history(runner)
    assert np.isfinite(losses).all()
    if iters >= 40:
        assert losses[-8:].mean() < losses[:8].mean()
    decode, aux = runner.model.decode_head.isda, runner.model.auxiliary_head.isda
    assert decode.estimator is not aux.estimator
    assert decode.ratio == pytest.approx(7.5)          # lambda0 * iter / max_iters, last iter
    # Two 64x128 crops per iteration, features at 1/8: 2 * 8 * 16 pixels per step.
    assert int(decode.estimator.count.sum()) == int(aux.estimator.count.sum()) == iters * 2 * 128
    assert torch.isfinite(decode.estimator.cov).all()
    # 19 classes + the ignore bucket, over each head's own classifier input width.
    assert decode.estimator.cov.shape == (20, 64) and aux.estimator.cov.shape == (20, 32)


@pytest.mark.parametrize('epochs', [
    pytest.param(None, id='wiring'),
    pytest.param(2, id='training'),
])
def test_tiny_detection_run(epochs, tmp_path, tiny_data_root):
    # The wiring variant stops after 3 iterations (an iteration-based loop).
    overrides = {'train_cfg.max_epochs': epochs} if epochs else {
        'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop', max_iters=3, val_interval=99),
        'default_hooks.checkpoint': dict(type='CheckpointHook', by_epoch=False, interval=3)}
    runner = _tiny_runner('isda/faster-rcnn_r18_fpn-isda_tiny-coco.py', tmp_path,
                          tiny_data_root('coco'), **NO_VAL, **overrides)
    runner.train()
    losses = _loss_history(runner)
    assert np.isfinite(losses).all() and np.isfinite(_loss_history(runner, 'loss_cls')).all()
    images = 2 * 16 if epochs else 3 * 2
    if epochs:
        assert losses[-4:].mean() < losses[:4].mean()
    counts = runner.model.roi_head.bbox_head.isda.estimator.count
    # At most 512 sampled RoIs per image; background (class 4) dominates the samples.
    assert counts.numel() == 5 and 0 < int(counts.sum()) <= images * 512
    assert counts[4] > counts[:4].sum() > 0


def test_tiny_caam_cam_distillation(tmp_path, tiny_data_root):
    data_root = tiny_data_root('imagenet')
    teacher_cfg = osp.join(ROOT, 'configs', 'isda', 'resnet20_1xb16-4e_tiny-imagenet.py')
    teacher_run = _tiny_runner('isda/resnet20_1xb16-4e_tiny-imagenet.py', tmp_path / 'teacher',
                               data_root, **NO_VAL, **{'train_cfg.max_epochs': 1,
                                                       'train_dataloader.batch_size': 48,
                                                       'default_hooks.checkpoint.interval': 1})
    teacher_run.train()
    ckpt = str(tmp_path / 'teacher' / 'epoch_1.pth')
    student = _tiny_runner(
        'camloss/resnet20-camloss_1xb16-4e_tiny-imagenet.py', tmp_path / 'student', data_root,
        **NO_VAL, **{
            'model.type': 'dynamicnet.CAAMCAMDistiller',
            'model.teacher': teacher_cfg,
            'model.teacher_ckpt': ckpt,
            'model.beta': 1.0,
            'model.logit_kd_weight': 0.5,
            'model.head.cam_cfg.alpha': 0.0,
            'train_cfg.max_epochs': 1,
            'train_dataloader.batch_size': 48,
        })
    student.train()
    kd = _loss_history(student, 'loss_kd_cam')
    assert len(kd) == 3 and (kd > 0).all()              # 144 images / 48
    assert (_loss_history(student, 'loss_kd_logit') > 0).all()
    teacher_state = torch.load(ckpt, map_location='cpu')['state_dict']
    for key, value in student.model.teacher.state_dict().items():
        assert torch.equal(value, teacher_state[key]), key
    assert all(p.grad is None for p in student.model.teacher.parameters())
    assert not student.model.teacher.training
