# Copyright (c) dynamicnet contributors. All rights reserved.
"""CondenseNetV2 as an mmdet backbone: configs build, and a short Faster R-CNN run on the tiny
COCO data with the condensing backbone."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from dynamicnet.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[3] / 'configs' / 'condensenetv2'


@pytest.mark.parametrize('name', [
    'faster-rcnn_condensenetv2-a_fpn_1x_coco.py', 'faster-rcnn_condensenetv2-b_fpn_1x_coco.py',
    'faster-rcnn_condensenetv2-c_fpn_1x_coco.py', 'retinanet_condensenetv2-a_fpn_1x_coco.py',
    'retinanet_condensenetv2-b_fpn_1x_coco.py', 'retinanet_condensenetv2-c_fpn_1x_coco.py'
])
def test_coco_configs_build(name, default_scope):
    cfg = Config.fromfile(str(CONFIGS / name))
    default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert model.backbone.out_channels[1:] == list(cfg.model.neck.in_channels)
    if name.startswith('faster') and '-a_' in name:
        model.eval()
        with torch.no_grad():
            feats = model.extract_feat(torch.randn(1, 3, 128, 160))
        assert [f.shape[-2:] for f in feats[:4]] == [(128 // s, 160 // s) for s in (4, 8, 16, 32)]


class _Losses(Hook):

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())


def test_faster_rcnn_tiny_coco(tmp_path, tiny_data_root, default_scope):
    torch.set_num_threads(1)
    default_scope('mmdet')
    root = tiny_data_root('coco') + '/'
    cfg = Config.fromfile(str(CONFIGS / 'faster-rcnn_condensenetv2-a_fpn_tiny-coco.py'))
    cfg.work_dir = str(tmp_path)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = root
    cfg.val_evaluator.ann_file = root + 'annotations/instances_val2017.json'
    cfg.test_evaluator = cfg.val_evaluator
    iters = 12
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.default_hooks.checkpoint.interval = iters
    runner = Runner.from_cfg(cfg)
    losses = _Losses()
    runner.register_hook(losses)
    runner.train()  # validates once at the end (CocoMetric on the condensing detector)
    assert all(torch.isfinite(torch.tensor(losses.losses)))
    assert sum(losses.losses[-3:]) < 0.9 * sum(losses.losses[:3]), losses.losses
    # The backbone condensed in the first half of the run; its converted form gives the
    # detector the same features.
    model = runner.model.eval()
    backbone = model.backbone
    assert backbone.is_fully_condensed()
    batch = model.data_preprocessor(next(iter(runner.val_dataloader)), False)
    with torch.no_grad():
        before = model.extract_feat(batch['inputs'])
        backbone.switch_to_deploy()
        after = model.extract_feat(batch['inputs'])
    for a, b in zip(before, after):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4)
