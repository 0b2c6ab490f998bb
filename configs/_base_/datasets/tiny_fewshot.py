# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny fine-grained few-shot set (dynamicnet.datasets.tiny.fewshot): 20 classes of class
# folders images/<class>/*.png with binary masks/<class>/*.png, read by mmpretrain's
# CustomDataset. The class splits are files under data_root (one class name per line);
# restrict a dataset to a split by wrapping it, e.g. in dynamicnet.ClassSplitDataset(
# split='base', class_splits=class_splits, split_root=data_root, dataset=...). There is no
# upstream few-shot base; the pipelines follow mmpretrain's `imagenet_bs32.py` at 64 px
# (RandomResizedCrop keeps >= 60% of the area so the object stays in view).
# Make the data with
#   python tools/dataset_converters/make_tiny_data.py fewshot --out data/tiny/fewshot
dataset_type = 'CustomDataset'
data_root = 'data/tiny/fewshot'
image_size = 64
class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
mask_prefix = 'masks'
data_preprocessor = dict(
    num_classes=20,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=image_size, edge='short'),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix='images', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix='images', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
