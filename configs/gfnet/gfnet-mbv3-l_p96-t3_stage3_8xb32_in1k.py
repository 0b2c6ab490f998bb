# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 3 (fine-tuning with patches sampled from the frozen policy), MobileNetV3-Large,
# P = 96, T = 3; f_C lr 0.01 (lr_mult 2 on the encoder lr 0.005).
_base_ = ['./gfnet-mbv3-l_p96-t3_stage1_8xb32_in1k.py']

model = dict(training_stage=3)
load_from = 'work_dirs/gfnet-mbv3-l_p96-t3_stage2_8xb32_in1k/epoch_15.pth'
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=2.0)}))
