# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny rawframe videos (dynamicnet.datasets.tiny.video) for mmaction2's RawframeDataset.
# Mirrors mmaction2 1.2's TSN rawframe configs (SampleFrames -> RawFrameDecode -> Resize ->
# MultiScaleCrop / CenterCrop -> FormatShape -> PackActionInputs) at 64 px frames and 8
# segments, without Flip (left/right motion is the class). mmaction2 is not part of
# dynamicnet's pinned stack: the types below resolve under default_scope='mmaction' when
# mmaction2 1.x is installed; video methods without it read the same lists
# (`<video> <num_frames> <label>`, frames rawframes/<video>/img_00001.jpg, 1-based) with
# their own dataset.
# Make the data with
#   python tools/dataset_converters/make_tiny_data.py video --out data/tiny/video
dataset_type = 'RawframeDataset'
data_root = 'data/tiny/video/rawframes'
ann_file_train = 'data/tiny/video/train_list_rawframes.txt'
ann_file_val = 'data/tiny/video/val_list_rawframes.txt'
num_classes = 6
num_segments = 8
filename_tmpl = 'img_{:05}.jpg'

train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(
        type='MultiScaleCrop',
        input_size=56,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root),
        filename_tmpl=filename_tmpl,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
