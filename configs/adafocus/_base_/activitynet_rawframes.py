# Copyright (c) dynamicnet contributors. All rights reserved.
# ActivityNet v1.3 (200 classes) as mmaction2 rawframe lists: '<video dir> <num frames> <label>'
# per line, frames rawframes/<video dir>/image_00001.jpg ... (AdaFocus ops/video_jpg.py, 30 fps as
# the official lists assume; check_frames stops on a list/frames mismatch, AdaFocus issue #5).
# Only the first label of each video is used (official targets[:, 0:1]). Metric: mAP (mmpretrain
# AveragePrecision: per-class non-interpolated AP, classes without positives count 0, x 100),
# the official cal_map.
dataset_type = 'dynamicnet.RawframeDataset'
data_root = 'data/activitynet/'
num_segments = 16
filename_tmpl = 'image_{:05d}.jpg'
train_pipeline = [
    dict(type='dynamicnet.SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='dynamicnet.RawFrameDecode'),
    # TSN GroupMultiScaleCrop(224, [1, .875, .75, .66]) with its default 13 fixed crops
    dict(
        type='dynamicnet.MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        max_wh_scale_gap=1,
        num_fixed_crops=13),
    dict(type='dynamicnet.VideoResize', scale=(224, 224), keep_ratio=False),
    dict(type='dynamicnet.VideoFlip', flip_ratio=0.5),
    dict(type='dynamicnet.FormatShape', input_format='NCHW'),
    dict(type='dynamicnet.PackActionInputs'),
]
test_pipeline = [
    dict(
        type='dynamicnet.SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments,
        test_mode=True),
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
        data_root=data_root,
        ann_file='train_list_rawframes.txt',
        data_prefix=dict(img='rawframes'),
        filename_tmpl=filename_tmpl,
        check_frames=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val_list_rawframes.txt',
        data_prefix=dict(img='rawframes'),
        filename_tmpl=filename_tmpl,
        check_frames=True,
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AveragePrecision')
test_evaluator = val_evaluator
