# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end ResNet-110 on CIFAR-10: the twin of every resnet110-infopro* CIFAR-10 config
# (same data, schedule and network; InfoPro configs only change the model type and add the
# local-learning arguments).
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.CIFARResNet', depth=110),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

# CIFAR-10 as in the official InfoPro code: reflect-pad 4 + crop + flip, official mean / std.
data_preprocessor = dict(
    num_classes=10, mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7], to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4, padding_mode='reflect'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=1024, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1024)
test_dataloader = val_dataloader

# 160 epochs, SGD Nesterov (momentum 0.9, wd 1e-4), lr 0.8 at batch 1024; cosine per epoch with
# a 10-epoch linear warm-up from 0.01 (the official blend `cos_lr(e)·(e−1)/10 + 0.01·(11−e)/10`
# is approximated by mmengine's LinearLR × CosineAnnealingLR).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.8, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0125, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=False),
    dict(type='CosineAnnealingLR', T_max=160, by_epoch=True, begin=0, end=160),
]
train_cfg = dict(by_epoch=True, max_epochs=160, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
