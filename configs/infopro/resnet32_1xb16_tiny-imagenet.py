# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end ResNet-32 on dynamicnet's tiny ImageNet-style folders (6 classes, 32×32): the twin of
# resnet32-infopro-k4-contrast_1xb16_tiny-imagenet.py, for quick CPU runs. Make the data with
#   python tools/dataset_converters/make_tiny_data.py imagenet --out data/tiny/imagenet
_base_ = [
    '../_base_/datasets/tiny_imagenet.py',
    'mmpretrain::_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.CIFARResNet', depth=32),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=6,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = dict(type='CosineAnnealingLR', T_max=30, by_epoch=True, begin=0, end=30)
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=5))
