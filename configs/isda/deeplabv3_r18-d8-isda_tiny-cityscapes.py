# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny-data check of the segmentation wiring (not a paper recipe): DeepLabV3 ResNet-18-D8 (BN, no
# pretrained weights, narrow heads) with per-pixel ISDA on the ASPP and auxiliary FCN heads
# (separate estimators, diagonal covariance, lambda0 = 7.5, lambda = lambda0 * iter / max_iters) on
# dynamicnet's tiny Cityscapes (64x128 crops), 40 iterations. Make the data with
#   python tools/dataset_converters/make_tiny_data.py cityscapes --out data/tiny/cityscapes
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/tiny_cityscapes.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (64, 128)
norm_cfg = dict(type='BN', requires_grad=True)
isda_cfg = dict(lambda0=7.5, covariance='diagonal', schedule='iter')
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        type='dynamicnet.ISDAASPPHead', in_channels=512, channels=64, norm_cfg=norm_cfg,
        isda_cfg=isda_cfg),
    auxiliary_head=dict(
        type='dynamicnet.ISDAFCNHead', in_channels=256, channels=32, norm_cfg=norm_cfg,
        isda_cfg=isda_cfg))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=5, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=40),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
