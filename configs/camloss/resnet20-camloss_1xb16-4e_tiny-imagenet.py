# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny-data check of CAM-loss (not a paper recipe): CIFAR ResNet-20 (8x8 maps) with the CAM-loss
# head (spec defaults, alpha = 1) on dynamicnet's 6-class 32x32 ImageNet-style folders, 4 epochs.
_base_ = ['../isda/resnet20_1xb16-4e_tiny-imagenet.py']
model = dict(
    neck=None,
    head=dict(
        _delete_=True,
        type='dynamicnet.CAMLossClsHead',
        num_classes=6,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        cam_cfg=dict(alpha=1.0)))
