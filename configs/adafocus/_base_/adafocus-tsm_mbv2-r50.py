# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM (Something-Something path, spec section 4.1): MobileNetV2-TSM glancer on 8 full
# 224x224 frames, ResNet-50-TSM focuser (residual shift, shift_div 8) on 12 P x P patches of 12
# other frames, continuous Gaussian patch policy (sigmoid mean, std 0.25; Conv1x1 -> 64 + BN +
# ReLU + Linear + BN1d + ReLU encoder), prediction = mean of the focuser's per-frame logits + mean
# of the glancer's. [unconfirmed]: num_divisions 4 (one policy decision per 2 glancer / 3 focuser
# frames), policy hidden 512, head dropout 0.5 (TSM). ImageNet-pretrained backbones are loaded by
# the stage-0 configs' init_cfg; later stages inherit weights through load_from.
glance_segments = 8
focus_segments = 12
model = dict(
    type='dynamicnet.AdaFocusTSM',
    global_backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=1.0, out_indices=(7, )),
    local_backbone=dict(type='mmpretrain.ResNet', depth=50, out_indices=(3, )),
    global_channels=1280,
    local_channels=2048,
    num_classes=174,
    glance_segments=glance_segments,
    focus_segments=focus_segments,
    patch_size=144,
    input_size=224,
    shift_div=8,
    num_divisions=4,
    policy=dict(hidden_dim=512, reduced_channels=64, std=0.25, gamma=0.7, clip_eps=0.2,
                value_coef=0.5, entropy_coef=0.01),
    dropout=0.5,
    training_stage=1,
    stage3_trainable=('local_head', ),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),  # RawFrameDecode already gives RGB
    test_cfg=dict(cost_input_shape=(glance_segments + focus_segments, 3, 224, 224)),
)
