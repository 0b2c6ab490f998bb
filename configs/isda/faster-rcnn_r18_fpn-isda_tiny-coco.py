# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny-data check of the detection wiring (not a paper recipe): Faster R-CNN ResNet-18-FPN (no
# pretrained weights) with ISDA on the RoI classification branch (diagonal covariance, background
# as a class, lambda0 = 0.5, lambda = lambda0 * iter / max_iters) on dynamicnet's 4-class tiny
# COCO, 2 epochs. Make the data with
#   python tools/dataset_converters/make_tiny_data.py coco --out data/tiny/coco
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/tiny_coco.py',
    'mmdet::_base_/default_runtime.py'
]
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(
            type='dynamicnet.ISDAShared2FCBBoxHead',
            in_channels=64,
            fc_out_channels=128,
            num_classes=4,
            background='class',
            isda_cfg=dict(lambda0=0.5, covariance='diagonal', schedule='iter'))))
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=2))
randomness = dict(seed=0)
