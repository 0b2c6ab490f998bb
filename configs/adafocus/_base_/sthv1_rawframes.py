# Copyright (c) dynamicnet contributors. All rights reserved.
# Something-Something V1 (174 classes) as mmaction2 rawframe lists: '<video dir> <num frames>
# <label>' per line, frames rawframes/<video dir>/00001.jpg ... as released by 20BN (mmaction2's
# sthv1 layout). Metric: top-1 (and top-5).
# AdaFocus-TSM input: two independent TSN samplings of every video, 8 glancer frames then 12
# focuser frames (SampleFrameGroups; AdaFocus issue #8), one crop for all 20 frames. TSM
# augmentation: GroupMultiScaleCrop(224, [1, .875, .75, .66]) and no flip, since Sth-Sth classes
# are direction-sensitive ("... from left to right") [unconfirmed: the spec lists the flip for the
# ActivityNet path only]; test GroupScale(256) + GroupCenterCrop(224).
dataset_type = 'dynamicnet.RawframeDataset'
data_root = 'data/sthv1/'
filename_tmpl = '{:05}.jpg'
num_clips = (8, 12)  # glance_segments, focus_segments of the model
train_pipeline = [
    dict(type='dynamicnet.SampleFrameGroups', num_clips=num_clips),
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
    dict(type='dynamicnet.SampleFrameGroups', num_clips=num_clips, test_mode=True),
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
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
