# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny ImageNet-style class folders (dynamicnet.datasets.tiny.imagenet) for mmpretrain's
# CustomDataset. Mirrors mmpretrain 1.2 `_base_/datasets/imagenet_bs32.py`; differences:
# CustomDataset sub-folder mode (6 classes, 32x32 PNGs) instead of ImageNet's 1000-class
# metainfo, crops 224/256 -> 32/36, RandomResizedCrop keeps >= 50% of the area so the shape
# stays visible, batch 32 -> 16, no worker processes. Make the data with
#   python tools/dataset_converters/make_tiny_data.py imagenet --out data/tiny/imagenet
dataset_type = 'CustomDataset'
data_root = 'data/tiny/imagenet'
num_classes = 6
data_preprocessor = dict(
    num_classes=num_classes,
    # RGB format normalization parameters
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # convert image from BGR to RGB
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix='train', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='val', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
