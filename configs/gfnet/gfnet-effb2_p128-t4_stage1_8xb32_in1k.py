# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 1, EfficientNet-B2 encoders (1408-channel map), patch/glance 128, T = 4, cascade
# linear f_C, conv policy encoder, f_G frozen, lambda_dsn 5, encoder lr 0.005, 30 epochs
# (gfnet.md §3.1, §5). The official train.py trains at 224 while its inference uses 260 with
# crop_pct 0.875 (pitfall 11); this config trains at 224 and tests at 260.
_base_ = ['./gfnet-mbv3-l_p96-t3_stage1_8xb32_in1k.py']

encoder = dict(
    _delete_=True,
    backbone=dict(type='mmpretrain.EfficientNet', arch='b2', out_indices=(6, )),
    map_channels=1408)
model = dict(
    global_encoder=encoder,
    local_encoder=encoder,
    patch_size=128,
    num_steps=4,
    test_cfg=dict(cost_input_shape=(3, 260, 260)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=297, edge='short', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=260),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
param_scheduler = dict(T_max=30)
train_cfg = dict(max_epochs=30)
