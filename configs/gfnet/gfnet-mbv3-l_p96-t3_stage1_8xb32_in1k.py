# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 1, MobileNetV3-Large 1.0 encoders, patch/glance 96, T = 3 (gfnet.md §3.1, §5):
# the map is the last block's 960 channels; the pooled feature goes through the 1x1 conv_head
# (960 -> 1280, h-swish) as in timm; f_C is the cascade of linear heads (the glance prediction is
# the frozen f_G's own head); policy state encoder 1x1 conv (32) -> 256. f_G frozen in eval mode
# in every stage (train_global=False), lambda_dsn = 5, encoder lr 0.005 / f_C lr 0.1, 90 epochs.
_base_ = ['./gfnet-r50_p96-t5_stage1_8xb32_in1k.py']

encoder = dict(
    _delete_=True,
    backbone=dict(type='mmpretrain.MobileNetV3', arch='large'),
    map_channels=960,
    feature_proj=1280)
model = dict(
    global_encoder=encoder,
    local_encoder=encoder,
    num_steps=3,
    classifier=dict(_delete_=True, type='cascade_linear'),
    policy=dict(state_encoder='conv', hidden_dim=256),
    train_global=False,
    dsn_weight=5.0)
optim_wrapper = dict(
    optimizer=dict(lr=0.005), paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=20.0)}))
param_scheduler = dict(T_max=90)
train_cfg = dict(max_epochs=90)
