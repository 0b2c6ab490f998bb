# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline (Chen et al., ICLR 2019): ResNet-18 pre-trained with a linear classifier over the base
# classes (set num_classes to their number in the leaf config), then per episode a new linear
# classifier fine-tuned on the frozen support features.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
fewshot_head = dict(type='dynamicnet.LinearFewShotHead')
val_cfg = dict(type='dynamicnet.MetaTestLoop', head=fewshot_head, setting='inductive')
test_cfg = dict(val_cfg)
