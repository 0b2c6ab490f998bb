# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of wrn28-10-isda_1xb128_cifar100.py: WRN-28-10 (dropout 0.3 as in the official
# README commands, 36.5 M parameters), plain cross-entropy, the same recipe (ISDA official CIFAR
# `training_configurations`).
_base_ = ['./_base_/cifar100_bs128.py', './_base_/schedule_wrn_240e.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.WideResNet', depth=28, widen_factor=10, drop_rate=0.3),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=640,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
