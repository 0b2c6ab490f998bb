# Copyright (c) dynamicnet contributors. All rights reserved.
# ActivityNet v1.3 (200 classes) as mmaction2 rawframe lists: '<video dir> <num frames> <label>'
# per line, frames rawframes/<video dir>/image_00001.jpg ... (AdaFocus ops/video_jpg.py, 30 fps as
# the official lists assume; check_frames stops on a list/frames mismatch, AdaFocus issue #5).
# Only the first label of each video is used (official targets[:, 0:1]). Metric: mAP (mmpretrain
# AveragePrecision: per-class non-interpolated AP, classes without positives count 0, x 100),
# the official cal_map.
# Input: 16 TSN segments of one frame; the shared 224 px pipelines plus a horizontal flip.
_base_ = ['./rawframes_224px.py']

data_root = 'data/activitynet/'
num_segments = 16
filename_tmpl = 'image_{:05d}.jpg'
train_pipeline = [
    dict(type='dynamicnet.SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    *_base_.train_pipeline[:-2],  # decode, multi-scale crop, resize
    dict(type='dynamicnet.VideoFlip', flip_ratio=0.5),
    *_base_.train_pipeline[-2:],  # format, pack
]
test_pipeline = [
    dict(
        type='dynamicnet.SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments,
        test_mode=True),
    *_base_.test_pipeline,
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='AveragePrecision')
test_evaluator = val_evaluator
