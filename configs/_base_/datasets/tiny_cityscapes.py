# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny Cityscapes (dynamicnet.datasets.tiny.cityscapes) for mmseg's CityscapesDataset.
# Mirrors mmseg 1.2 `_base_/datasets/cityscapes.py` at 1/8 of the resolution: images 128x256
# instead of 1024x2048, so RandomResize scale (2048, 1024) -> (256, 128), crop (512, 1024) ->
# (64, 128), test Resize (2048, 1024) -> (256, 128); no worker processes, no TTA. Set the
# segmentor's data_preprocessor.size = crop_size. Make the data with
#   python tools/dataset_converters/make_tiny_data.py cityscapes --out data/tiny/cityscapes
dataset_type = 'CityscapesDataset'
data_root = 'data/tiny/cityscapes/'
crop_size = (64, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    # add loading annotation after ``Resize`` because ground truth
    # does not need to do resize data transform
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
