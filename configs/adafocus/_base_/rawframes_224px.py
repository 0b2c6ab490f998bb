# Copyright (c) dynamicnet contributors. All rights reserved.
# What the AdaFocus rawframe datasets share (activitynet_rawframes.py, sthv1_rawframes.py):
# mmaction2 rawframe lists ('<video dir> <num frames> <label>' per line, frames under
# rawframes/<video dir>/), check_frames (stops on a list/frames mismatch, AdaFocus issue #5), TSN
# training augmentation GroupMultiScaleCrop(224, [1, .875, .75, .66]) with its default 13 fixed
# crops, test GroupScale(256) + GroupCenterCrop(224), 32 videos per GPU. The pipelines here start
# after the frame sampling: each dataset file prepends its sampling step (and adds its own
# augmentation), then sets data_root, filename_tmpl, the loaders' pipelines and the metric.
dataset_type = 'dynamicnet.RawframeDataset'
train_pipeline = [
    dict(type='dynamicnet.RawFrameDecode'),
    dict(
        type='dynamicnet.MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        max_wh_scale_gap=1,
        num_fixed_crops=13),
    dict(type='dynamicnet.VideoResize', scale=(224, 224), keep_ratio=False),
    dict(type='dynamicnet.FormatShape', input_format='NCHW'),
    dict(type='dynamicnet.PackActionInputs'),
]
test_pipeline = [
    dict(type='dynamicnet.RawFrameDecode'),
    dict(type='dynamicnet.VideoResize', scale=(-1, 256)),
    dict(type='dynamicnet.VideoCenterCrop', crop_size=224),
    dict(type='dynamicnet.FormatShape', input_format='NCHW'),
    dict(type='dynamicnet.PackActionInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='train_list_rawframes.txt',
        data_prefix=dict(img='rawframes'),
        check_frames=True))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file='val_list_rawframes.txt',
        data_prefix=dict(img='rawframes'),
        check_frames=True,
        test_mode=True))
test_dataloader = val_dataloader
