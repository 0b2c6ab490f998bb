# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline pre-training (Chen et al., ICLR 2019): ResNet-18 + linear classifier over the base
# classes. Set num_classes to the number of base classes in the leaf config.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
