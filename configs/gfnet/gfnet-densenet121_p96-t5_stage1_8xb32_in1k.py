# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 1, DenseNet-121 encoders (1024-channel map), patch/glance 96, T = 5, GRU f_C,
# MLP policy encoder (gfnet.md §3.1). The official inference resizes the glance bilinearly for
# DenseNet while training used bicubic; dynamicnet keeps one mode for train and test
# (glance_interp, default bicubic; set 'bilinear' to mimic the official inference).
_base_ = ['./gfnet-r50_p96-t5_stage1_8xb32_in1k.py']

encoder = dict(
    _delete_=True, backbone=dict(type='mmpretrain.DenseNet', arch='121'), map_channels=1024)
model = dict(global_encoder=encoder, local_encoder=encoder)
