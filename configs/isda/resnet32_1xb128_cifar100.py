# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of resnet32-isda_1xb128_cifar100.py: ResNet-32 (He et al. CIFAR ResNet, 0.5 M
# parameters), plain cross-entropy, the same recipe (ISDA official CIFAR
# `training_configurations`).
_base_ = ['./_base_/cifar100_bs128.py', './_base_/schedule_resnet_160e.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.CIFARResNet', depth=32),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
