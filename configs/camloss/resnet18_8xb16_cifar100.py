# Copyright (c) dynamicnet contributors. All rights reserved.
# CAM-loss baseline twin on CIFAR-100: mmpretrain's CIFAR ResNet-18 recipe (8 GPUs x 16, SGD lr 0.1,
# weight decay 5e-4, 200 epochs, lr x0.2 at 60/120/160; the paper's recipe is not available) with
# the CAM-loss head at alpha = 0, i.e. plain cross-entropy (spec camloss.md §5). The head pools the
# last feature map itself, so neck=None.
_base_ = ['mmpretrain::resnet/resnet50_8xb16_cifar100.py']
model = dict(
    backbone=dict(depth=18),
    neck=None,
    head=dict(
        _delete_=True,
        type='dynamicnet.CAMLossClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        cam_cfg=dict(alpha=0.0)))
