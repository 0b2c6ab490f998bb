# Copyright (c) dynamicnet contributors. All rights reserved.
# CPU-sized VoteNet + Pointformer on the tiny synthetic ScanNet (a few minutes on 2 CPU cores).
# Same architecture, inputs (xyz + height) and ScanNet head (18 classes, 24 heading bins) as
# votenet_pointformer_8xb2_scannet-3d.py through the shared model base. CPU sizing: block width
# 16 instead of 64 (4 heads), centres (256, 128, 64, 32), 4,096 points per scene (tiny base),
# 624 iterations (6 epochs of 32 rooms x 13 repeats / batch 4). Tiny-data schedule: AdamW lr 1e-3
# (the official 2e-3, and 4e-3, stall on a fixed batch with the narrow model), no global dropout
# (official 0.2: a regulariser for 48 x 5 epochs of real data), lr x0.1 for the last epoch.
# dynamicnet's measurement: see configs/pointformer/README.md.
# Make the data with
#   python tools/dataset_converters/make_tiny_data.py scannet --out data/tiny/scannet
_base_ = [
    '../_base_/datasets/tiny_scannet.py', '../_base_/models/votenet_pointformer_scannet.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(
    imports=[
        'dynamicnet.ops.mmdet3d_dispatch', 'dynamicnet.datasets.det3d',
        'dynamicnet.evaluation.det3d'
    ],
    allow_failed_imports=False)

model = dict(
    backbone=dict(
        basic_channels=16,
        num_heads=4,
        num_points=(256, 128, 64, 32),
        num_samples=(16, 8, 8, 8),
        global_drop=0.0),
    bbox_head=dict(vote_aggregation_cfg=dict(num_point=32)))

train_dataloader = dict(
    batch_size=4,
    dataset=dict(times=13, dataset=dict(type='dynamicnet.CheckedScanNetDataset', min_points=256)))
val_dataloader = dict(dataset=dict(type='dynamicnet.CheckedScanNetDataset', min_points=256))
test_dataloader = val_dataloader
# mAP over the classes present in the (tiny) split; identical to IndoorMetric when all are.
val_evaluator = dict(_delete_=True, type='dynamicnet.PresentClassIndoorMetric')
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1),
    clip_grad=dict(max_norm=10, norm_type=2))
# 32 rooms x 13 repeats / 4 per batch = 104 iterations per epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6, val_interval=6)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[5], gamma=0.1)]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10), checkpoint=dict(type='CheckpointHook', interval=6))
randomness = dict(seed=0)
