# Copyright (c) dynamicnet contributors. All rights reserved.
"""CondensationHook in a real mmengine Runner: a short CondenseNetV2-A classification run on the
tiny ImageNet-style data, then conversion of the saved checkpoint."""
import importlib.util
import os.path as osp
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from dynamicnet.models.utils.condensenetv2_layers import condensation_stage

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / 'condensenetv2' / 'condensenetv2-a_1xb16_tiny-imagenet.py'
CONVERT_TOOL = REPO / 'tools' / 'model_converters' / 'condensenetv2_convert.py'


class _Recorder(Hook):
    """Loss and condensation stage seen by every training iteration's forward."""

    priority = 'LOW'

    def __init__(self):
        self.losses, self.stages = [], []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        lgc = runner.model.backbone.stages[4][7].conv_1
        self.stages.append(lgc.stage)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss']))


def _tiny_cfg(tmp_path, root, iters):
    cfg = Config.fromfile(str(CONFIG))
    cfg.work_dir = str(tmp_path)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = root
    cfg.train_dataloader.batch_size = 8
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.param_scheduler.T_max = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 10
    return cfg


def test_condensation_hook_tiny_classification(tmp_path, tiny_data_root, default_scope):
    torch.set_num_threads(1)
    default_scope('mmpretrain')
    iters = 24
    cfg = _tiny_cfg(tmp_path, tiny_data_root('imagenet'), iters)
    runner = Runner.from_cfg(cfg)
    recorder = _Recorder()
    runner.register_hook(recorder)
    runner.train()

    # Every iteration's forward saw the stage of p = iter / max_iters; C - 1 = 7 events.
    assert recorder.stages == [condensation_stage(i / iters, 8) for i in range(iters)]
    backbone = runner.model.backbone
    assert backbone.is_fully_condensed()
    # The EMA copy got the masks verbatim (binary) while its weights are averaged.
    ema = runner.hooks[[type(h).__name__ for h in runner.hooks].index('EMAHook')].ema_model
    for name, buf in ema.module.named_buffers():
        if name.endswith('_mask'):
            torch.testing.assert_close(buf, dict(runner.model.named_buffers())[name])
    # The loss falls on the learnable tiny data.
    first, last = sum(recorder.losses[:6]) / 6, sum(recorder.losses[-6:]) / 6
    print(f'loss {first:.3f} -> {last:.3f}')
    assert last < 0.9 * first, (first, last)

    # The saved (EMA) checkpoint converts to the deployable network with equal outputs.
    spec = importlib.util.spec_from_file_location('cdnv2_convert_tool', CONVERT_TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = osp.join(str(tmp_path), 'deploy.pth')
    diff, scale = tool.convert(str(CONFIG), osp.join(str(tmp_path), f'iter_{iters}.pth'), out)
    assert scale > 0.1 and diff < 1e-5 * scale


def test_two_iteration_schedule_condenses_fully(tmp_path, tiny_data_root, default_scope):
    """Iterations at p = 0 and p = 0.5: all C - 1 chunks are dropped in the jump (the official
    schedule would drop one and leave the masks under-condensed, spec pitfall 2)."""
    torch.set_num_threads(1)
    default_scope('mmpretrain')
    cfg = _tiny_cfg(tmp_path, tiny_data_root('imagenet'), 2)
    cfg.train_dataloader.batch_size = 4
    cfg.custom_hooks = [dict(type='dynamicnet.CondensationHook')]
    runner = Runner.from_cfg(cfg)
    recorder = _Recorder()
    runner.register_hook(recorder)
    runner.train()
    assert recorder.stages == [0, 7]
    assert runner.model.backbone.is_fully_condensed()
