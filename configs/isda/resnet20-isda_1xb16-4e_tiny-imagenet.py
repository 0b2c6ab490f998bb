# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny-data check of the classification wiring (not a paper recipe): a CIFAR ResNet-20 with the ISDA
# head (full covariance, lambda0 = 0.5, lambda = lambda0 * epoch / 4) on dynamicnet's 6-class
# 32x32 ImageNet-style folders, 4 epochs. Make the data with
#   python tools/dataset_converters/make_tiny_data.py imagenet --out data/tiny/imagenet
_base_ = ['../_base_/datasets/tiny_imagenet.py', 'mmpretrain::_base_/default_runtime.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.CIFARResNet', depth=20),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='dynamicnet.ISDALinearClsHead',
        num_classes=6,
        in_channels=64,
        isda_cfg=dict(lambda0=0.5, covariance='full', schedule='epoch'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[3], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=4, val_interval=4)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=3), checkpoint=dict(interval=4))
randomness = dict(seed=0)
