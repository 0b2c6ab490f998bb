# Copyright (c) dynamicnet contributors. All rights reserved.
"""VoteNet on CPU through dynamicnet: mmdet3d's own VoteNet (PointNet2SASSG + VoteHead) and
VoteNet + Pointformer, trained by mmengine's Runner on the tiny synthetic ScanNet."""
import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet3d')

from mmengine.config import Config  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _tiny_cfg(name, data_root, work_dir, **model_overrides):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.dataset.dataset.data_root = data_root
    cfg.val_dataloader.dataset.data_root = data_root
    cfg.test_dataloader.dataset.data_root = data_root
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.merge_from_dict(model_overrides)
    return cfg


class _Losses:
    """Collects the losses of every training iteration (an mmengine hook)."""

    def __new__(cls):
        from mmengine.hooks import Hook

        class Recorder(Hook):
            values = []

            def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
                self.values.append({k: float(v) for k, v in outputs.items()})

        return Recorder()


def _batch(cfg, count=2):
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return pseudo_collate([dataset[i] for i in range(count)])


def _loss_backward_predict(cfg):
    from mmdet3d.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(_batch(cfg), training=True)
    losses = model(**batch, mode='loss')
    total = sum(v.sum() for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    model.eval()
    with torch.no_grad():
        results = model(**batch, mode='predict')
    assert len(results) == 2 and hasattr(results[0].pred_instances_3d, 'bboxes_3d')
    return losses


def test_mmdet3d_votenet_loss_and_predict_on_cpu(tiny_data_root, tmp_path, default_scope):
    cfg = _tiny_cfg('votenet/votenet_1xb4-tiny_scannet-3d.py', tiny_data_root('scannet') + '/',
                    tmp_path)
    default_scope(cfg.default_scope)
    losses = _loss_backward_predict(cfg)
    assert {'vote_loss', 'center_loss', 'size_res_loss'} <= set(losses)


def test_pointformer_votenet_loss_and_predict_on_cpu(tiny_data_root, tmp_path, default_scope):
    cfg = _tiny_cfg('pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py',
                    tiny_data_root('scannet') + '/', tmp_path)
    default_scope(cfg.default_scope)
    assert cfg.model.bbox_head.bbox_coder.num_dir_bins == 24
    losses = _loss_backward_predict(cfg)
    assert {'vote_loss', 'dir_class_loss', 'dir_res_loss'} <= set(losses)


def _validate_train_validate(cfg):
    """Validation metrics of the untrained model, then of the model trained by mmengine's Runner
    with ``cfg``, and the vote loss of every training iteration."""
    from mmengine.runner import Runner
    recorder = _Losses()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(recorder, priority='LOWEST')
    before = runner.val()
    runner.train()
    after = runner.val()
    return before, after, [step['vote_loss'] for step in recorder.values]


def test_pointformer_votenet_learns_two_rooms(tiny_data_root, tmp_path, default_scope):
    """The main job at a smaller scale (2-3 minutes): the tiny Pointformer VoteNet trained by
    mmengine's Runner for 400 iterations on the first 2 training rooms, evaluated with the
    IndoorMetric on those same rooms. It checks that the detector fits its scenes, not that it
    generalises (the slow test below does that on unseen rooms). Seeds 0, 1, 2 gave mAP@0.25
    0.525 / 0.500 / 0.542 from 0.0 untrained and vote losses falling to about half."""
    cfg = _tiny_cfg('pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py',
                    tiny_data_root('scannet') + '/', tmp_path)
    cfg.train_dataloader.dataset.dataset.indices = 2
    cfg.train_dataloader.dataset.times = 50
    cfg.val_dataloader.dataset.ann_file = 'scannet_infos_train.pkl'
    cfg.val_dataloader.dataset.indices = 2
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_epochs = cfg.train_cfg.val_interval = 16
    cfg.param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[15], gamma=0.1)]
    cfg.default_hooks.logger.interval = 25
    before, after, vote = _validate_train_validate(cfg)
    assert len(vote) == 400 and np.isfinite(vote).all()
    assert np.mean(vote[-25:]) < 0.65 * np.mean(vote[:25])
    print(f"mAP@0.25 untrained {before['mAP_0.25']:.4f}, trained {after['mAP_0.25']:.4f}")
    assert after['mAP_0.25'] > before['mAP_0.25'] + 0.3


@pytest.mark.slow
def test_pointformer_votenet_trains_with_runner(tiny_data_root, tmp_path, default_scope):
    """The README's main job through mmengine's Runner (its full CPU schedule, 624 iterations:
    half of it was not enough for a reliable margin): the vote loss falls and validation mAP@0.25
    on the unseen rooms rises clearly above the untrained model's."""
    cfg = _tiny_cfg('pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py',
                    tiny_data_root('scannet') + '/', tmp_path)
    cfg.default_hooks.logger.interval = 50
    before, after, vote = _validate_train_validate(cfg)
    assert len(vote) == 624 and np.isfinite(vote).all()
    assert np.mean(vote[-50:]) < 0.6 * np.mean(vote[:50])
    print(f"mAP@0.25 untrained {before['mAP_0.25']:.4f}, trained {after['mAP_0.25']:.4f}")
    assert before['mAP_0.25'] < 0.01
    assert after['mAP_0.25'] > before['mAP_0.25'] + 0.1
