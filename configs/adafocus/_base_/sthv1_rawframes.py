# Copyright (c) dynamicnet contributors. All rights reserved.
# Something-Something V1 (174 classes) as mmaction2 rawframe lists: '<video dir> <num frames>
# <label>' per line, frames rawframes/<video dir>/00001.jpg ... as released by 20BN (mmaction2's
# sthv1 layout). Metric: top-1 (and top-5).
# AdaFocus-TSM input: two independent TSN samplings of every video, 8 glancer frames then 12
# focuser frames (SampleFrameGroups; AdaFocus issue #8), one crop for all 20 frames. TSM
# augmentation: the shared GroupMultiScaleCrop(224, [1, .875, .75, .66]) and no flip, since
# Sth-Sth classes are direction-sensitive ("... from left to right") [unconfirmed: the spec lists
# the flip for the ActivityNet path only]; test GroupScale(256) + GroupCenterCrop(224).
_base_ = ['./rawframes_224px.py']

data_root = 'data/sthv1/'
filename_tmpl = '{:05}.jpg'
num_clips = (8, 12)  # glance_segments, focus_segments of the model
train_pipeline = [
    dict(type='dynamicnet.SampleFrameGroups', num_clips=num_clips),
    *_base_.train_pipeline,
]
test_pipeline = [
    dict(type='dynamicnet.SampleFrameGroups', num_clips=num_clips, test_mode=True),
    *_base_.test_pipeline,
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
