# Copyright (c) dynamicnet contributors. All rights reserved.
# VoteNet + Pointformer on ScanNet v2 (18 classes), 8 GPUs x 2 samples: the official recipe
# (../shared/specs/pointformer.md §8) on mmdet3d 1.4's ScanNet pipeline. Runs on CPU as well
# (dynamicnet.ops); see configs/pointformer/README.md for the tiny-data variant.
_base_ = [
    'mmdet3d::_base_/datasets/scannet-3d.py', '../_base_/models/votenet_pointformer_scannet.py',
    'mmdet3d::_base_/schedules/schedule-3x.py', 'mmdet3d::_base_/default_runtime.py'
]

# RepeatDataset(times=5) is inherited: one epoch is 5 passes over the data (spec pitfall 6).
train_dataloader = dict(batch_size=2)

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.1),
    clip_grad=dict(max_norm=10, norm_type=2))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=48, val_interval=1)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=48, by_epoch=True, milestones=[32, 40], gamma=0.3)
]

default_hooks = dict(logger=dict(type='LoggerHook', interval=30))
# base_batch_size = 8 GPUs x 2 samples.
auto_scale_lr = dict(enable=False, base_batch_size=16)
