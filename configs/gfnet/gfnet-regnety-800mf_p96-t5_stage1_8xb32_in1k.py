# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 1, RegNetY-800MF encoders (pycls widths 64-128-320-768, SE ratio 0.25; dynamicnet's
# RegNetY on mmpretrain's RegNet), patch/glance 96, T = 5, GRU f_C, conv policy encoder (256),
# lambda_dsn 1, f_G trained, encoder lr 0.02 / f_C lr 0.1, wd 5e-5, 60 epochs (gfnet.md §3.1, §5).
_base_ = ['./gfnet-r50_p96-t5_stage1_8xb32_in1k.py']

encoder = dict(
    _delete_=True,
    backbone=dict(type='dynamicnet.RegNetY', arch='regnety_800mf', out_indices=(3, )),
    map_channels=768)
model = dict(
    global_encoder=encoder,
    local_encoder=encoder,
    policy=dict(state_encoder='conv', hidden_dim=256))
optim_wrapper = dict(
    optimizer=dict(lr=0.02, weight_decay=5e-5),
    paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=5.0)}))
