# Copyright (c) dynamicnet contributors. All rights reserved.
# CIFAR-100 data of the ISDA official code (`training_configurations`, spec isda.md §6.1) on
# mmpretrain's CIFAR100 dataset: reflect-pad 4 + random 32 crop + horizontal flip, normalisation
# mean (125.3, 123.0, 113.9) / std (63.0, 62.1, 66.7) in 0-255 units, batch 128 on one GPU.
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py', 'mmpretrain::_base_/default_runtime.py'
]
data_preprocessor = dict(
    num_classes=100, mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7], to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4, padding_mode='reflect'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader
