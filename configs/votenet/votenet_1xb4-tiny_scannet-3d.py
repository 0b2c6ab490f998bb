# Copyright (c) dynamicnet contributors. All rights reserved.
# mmdet3d's own VoteNet (PointNet2SASSG + VoteHead) on the tiny synthetic ScanNet, CPU-sized like
# configs/pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py so the two run side by side.
_base_ = [
    '../_base_/datasets/tiny_scannet.py', 'mmdet3d::_base_/models/votenet.py',
    'mmdet3d::_base_/default_runtime.py'
]

# The one-line switch: mmcv's point ops run on CPU through dynamicnet.ops (plus the tiny-split
# metric below).
custom_imports = dict(
    imports=['dynamicnet.ops.mmdet3d_dispatch', 'dynamicnet.evaluation.det3d'],
    allow_failed_imports=False)

model = dict(
    backbone=dict(num_points=(256, 128, 64, 32), num_samples=(16, 8, 8, 8)),
    bbox_head=dict(
        num_classes=18,
        vote_aggregation_cfg=dict(num_point=32),
        bbox_coder=dict(
            type='PartialBinBasedBBoxCoder',
            num_sizes=18,
            num_dir_bins=1,
            with_rot=False,
            mean_sizes=[[0.76966727, 0.8116021, 0.92573744], [1.876858, 1.8425595, 1.1931566],
                        [0.61328, 0.6148609, 0.7182701], [1.3955007, 1.5121545, 0.83443564],
                        [0.97949594, 1.0675149, 0.6329687], [0.531663, 0.5955577, 1.7500148],
                        [0.9624706, 0.72462326, 1.1481868], [0.83221924, 1.0490936, 1.6875663],
                        [0.21132214, 0.4206159, 0.5372846], [1.4440073, 1.8970833, 0.26985747],
                        [1.0294262, 1.4040797, 0.87554324], [1.3766412, 0.65521795, 1.6813129],
                        [0.6650819, 0.71111923, 1.298853], [0.41999173, 0.37906948, 1.7513971],
                        [0.59359556, 0.5912492, 0.73919016], [0.50867593, 0.50656086, 0.30136237],
                        [1.1511526, 1.0546296, 0.49706793], [0.47535285, 0.49249494, 0.5802117]])))

train_dataloader = dict(batch_size=4, dataset=dict(times=13))
# mAP over the classes present in the (tiny) split; identical to IndoorMetric when all are.
val_evaluator = dict(_delete_=True, type='dynamicnet.PresentClassIndoorMetric')
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=8e-3, weight_decay=0.01),
    clip_grad=dict(max_norm=10, norm_type=2))
# 32 rooms x 13 repeats / 4 per batch = 104 iterations per epoch; the Pointformer tiny schedule.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6, val_interval=6)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[5], gamma=0.1)]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10), checkpoint=dict(type='CheckpointHook', interval=6))
randomness = dict(seed=0)
