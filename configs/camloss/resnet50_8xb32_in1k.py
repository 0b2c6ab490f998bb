# Copyright (c) dynamicnet contributors. All rights reserved.
# CAM-loss baseline twin on ImageNet: mmpretrain's ResNet-50 recipe (8 GPUs x 32, 100 epochs, step
# lr) with the CAM-loss head at alpha = 0 (plain cross-entropy). ResNet-50 on ImageNet is the
# setting of the paper's Fig. 1; its training recipe is not available (spec camloss.md §5).
_base_ = ['mmpretrain::resnet/resnet50_8xb32_in1k.py']
model = dict(
    neck=None,
    head=dict(
        _delete_=True,
        type='dynamicnet.CAMLossClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        cam_cfg=dict(alpha=0.0)))
