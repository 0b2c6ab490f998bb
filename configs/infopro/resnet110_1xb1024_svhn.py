# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end ResNet-110 on SVHN (32×32, 10 classes): the twin of the SVHN InfoPro configs.
# mmpretrain has no SVHN dataset class: convert the data to class folders
# data/svhn/{train,test}/<class>/*.png (CustomDataset sub-folder mode).
_base_ = ['mmpretrain::_base_/default_runtime.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='dynamicnet.CIFARResNet', depth=110),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

# SVHN as in the official code: RandomCrop(32, padding 2), no flip. The normalisation is
# [unconfirmed] (mean 0.5, std 0.5 used here).
data_preprocessor = dict(
    num_classes=10, mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=1024,
    num_workers=4,
    dataset=dict(
        type='CustomDataset', data_root='data/svhn', data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=1024,
    num_workers=4,
    dataset=dict(
        type='CustomDataset', data_root='data/svhn', data_prefix='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# 160 epochs, SGD Nesterov (momentum 0.9, wd 1e-4), lr 0.8 at batch 1024; cosine per epoch with
# a 10-epoch linear warm-up from 0.01 (the official blend `cos_lr(e)·(e−1)/10 + 0.01·(11−e)/10`
# is approximated by mmengine's LinearLR × CosineAnnealingLR).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.8, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0125, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=False),
    dict(type='CosineAnnealingLR', T_max=160, by_epoch=True, begin=0, end=160),
]
train_cfg = dict(by_epoch=True, max_epochs=160, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
