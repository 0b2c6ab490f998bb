# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus on the tiny rawframe videos (64x64 frames, 6 classes told by the colour and the motion
# of a 16 px patch, 48 train / 24 val videos): slim ResNet-18 glancer (stem 16, base width 8, 64 x
# 2 x 2 map) on the full 64x64 frame, slim ResNet-18 focuser (base width 16, 128 channels) on
# 32x32 patches from the 7x7 grid, GRU f_C (hidden 64), policy hidden 64, T = 8 segments. Stage 1
# of the chain stage0-glancer -> stage0-focuser -> stage1 -> stage2 -> stage3 (load_from). The
# glancer is a slim ResNet, not MobileNetV2 x0.25, because the latter trained from scratch is slow
# and unstable at these budgets (README). No flip: left/right motion is the class. Tiny data:
# exercises the pipeline and the protocol, the numbers are not results.
_base_ = [
    '../_base_/datasets/tiny_video.py',
    'mmpretrain::_base_/default_runtime.py',
]

num_segments = 8
model = dict(
    type='dynamicnet.AdaFocus',
    global_backbone=dict(
        type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=16, out_indices=(3, )),
    local_backbone=dict(
        type='mmpretrain.ResNet', depth=18, base_channels=16, out_indices=(3, )),
    global_channels=64,
    local_channels=128,
    num_classes=6,
    num_segments=num_segments,
    patch_size=32,
    input_size=64,
    policy=dict(num_actions=49, hidden_dim=64),
    cls_head=dict(hidden_dim=64, dropout=0.5),
    training_stage=1,
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    test_cfg=dict(cost_input_shape=(num_segments, 3, 64, 64)),
)

train_pipeline = [
    dict(type='dynamicnet.SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='dynamicnet.RawFrameDecode'),
    dict(
        type='dynamicnet.MultiScaleCrop',
        input_size=64,
        scales=(1, 0.875, 0.75),
        max_wh_scale_gap=1,
        num_fixed_crops=13),
    dict(type='dynamicnet.VideoResize', scale=(64, 64), keep_ratio=False),
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
    dict(type='dynamicnet.VideoCenterCrop', crop_size=64),
    dict(type='dynamicnet.FormatShape', input_format='NCHW'),
    dict(type='dynamicnet.PackActionInputs'),
]
train_dataloader = dict(
    dataset=dict(type='dynamicnet.RawframeDataset', check_frames=True, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type='dynamicnet.RawframeDataset', check_frames=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='AveragePrecision'),
    dict(type='dynamicnet.EarlyExitMetric', budget=False, mean_ap=True),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=10.0)}))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=10)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=5))
randomness = dict(seed=0)
load_from = 'work_dirs/adafocus-r18-r18_stage0-focuser_1xb8_tiny-video/epoch_8.pth'
