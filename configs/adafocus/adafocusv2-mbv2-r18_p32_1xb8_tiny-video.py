# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny AdaFocusV2 (end-to-end) on the tiny rawframe videos: the tiny AdaFocus backbones (MobileNetV2
# x0.25 glancer, slim ResNet-18 focuser, P = 32, T = 8) with the V2 policy (hidden 64), MLP +
# running-max classifier (hidden 64) and losses. Tiny data: the numbers are not results.
_base_ = ['./adafocus-r18-r18_p32_stage1_1xb8_tiny-video.py']

model = dict(
    _delete_=True,
    type='dynamicnet.AdaFocusV2',
    global_backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=0.25, out_indices=(7, )),
    local_backbone=dict(
        type='mmpretrain.ResNet', depth=18, base_channels=16, out_indices=(3, )),
    global_channels=1280,
    local_channels=128,
    num_classes=6,
    num_segments=8,
    patch_size=32,
    input_size=64,
    policy=dict(hidden_dim=64, reduced_channels=16),
    cls_head=dict(hidden_dim=64, dropout=0.5),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    test_cfg=dict(cost_input_shape=(8, 3, 64, 64)),
)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            'policy': dict(lr_mult=0.1),
            'global_backbone': dict(lr_mult=0.5),
            'cls_head': dict(lr_mult=5.0),
        }))
load_from = None
