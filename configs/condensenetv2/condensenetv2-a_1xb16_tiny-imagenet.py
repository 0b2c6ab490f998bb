# Copyright (c) dynamicnet contributors. All rights reserved.
# CondenseNetV2-A (ImageNet architecture, 32x32 input -> 1x1 last block) on the tiny ImageNet-style
# data (6 classes, dynamicnet.datasets.tiny): a short run that condenses in its first half and
# can then be converted. Tiny data only; no paper number is reproduced by this config.
#   python tools/dataset_converters/make_tiny_data.py imagenet --out data/tiny/imagenet
#   python tools/train.py configs/condensenetv2/condensenetv2-a_1xb16_tiny-imagenet.py
_base_ = [
    '../_base_/datasets/tiny_imagenet.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.CondenseNetV2', arch='a', out_indices=(4, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='dynamicnet.CondenseNetV2ClsHead',
        num_classes=6,
        in_channels=800,
        mid_channels=[828],
        se_reduction=16,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=4e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=False, T_max=60, eta_min=0.0)
train_cfg = dict(by_epoch=False, max_iters=60, val_interval=60)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=60))

custom_hooks = [
    dict(type='dynamicnet.CondensationHook'),
    dict(
        type='EMAHook',
        ema_type='dynamicnet.CondenseNetV2EMA',
        momentum=0.25,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
]
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, deterministic=False)
