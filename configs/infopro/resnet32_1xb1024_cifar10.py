# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end ResNet-32 on CIFAR-10: the twin of every resnet32-infopro* CIFAR-10 config. Data,
# augmentation and schedule are those of the ResNet-110 twin; only the depth differs.
_base_ = './resnet110_1xb1024_cifar10.py'

model = dict(backbone=dict(depth=32))
