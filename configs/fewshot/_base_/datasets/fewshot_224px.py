# Copyright (c) dynamicnet contributors. All rights reserved.
# 224-px pipelines of the real few-shot datasets (CUB-200-2011, Stanford Dogs / Cars,
# mini-ImageNet): random-resized-crop pre-training, resize to 1.15x + centre crop for episodes,
# and a plain resize for FOT's extractor / generator training on base classes.
_base_ = ['./fewshot_loaders.py']
image_size = 224
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(int(image_size * 1.15), int(image_size * 1.15))),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
mask_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
