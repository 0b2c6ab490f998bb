# Copyright (c) dynamicnet contributors. All rights reserved.
# CondenseNetV2-110 on CIFAR-100; [unconfirmed] choices as condensenetv2-110_1xb64_cifar10.py.
# Dataset settings as mmpretrain's _base_/datasets/cifar100_bs16.py.
_base_ = ['./condensenetv2-110_1xb64_cifar10.py']

data_preprocessor = dict(
    num_classes=100, mean=[129.304, 124.070, 112.434], std=[68.170, 65.392, 70.418])
model = dict(head=dict(num_classes=100, topk=(1, 5)))
train_dataloader = dict(dataset=dict(type='CIFAR100', data_root='data/cifar100'))
val_dataloader = dict(dataset=dict(type='CIFAR100', data_root='data/cifar100/'))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
