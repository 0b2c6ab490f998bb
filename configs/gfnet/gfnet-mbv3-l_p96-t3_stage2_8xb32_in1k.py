# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 2 (PPO on the patch policy only), MobileNetV3-Large, P = 96, T = 3.
_base_ = ['./gfnet-mbv3-l_p96-t3_stage1_8xb32_in1k.py']

model = dict(training_stage=2)
load_from = 'work_dirs/gfnet-mbv3-l_p96-t3_stage1_8xb32_in1k/epoch_90.pth'
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_epochs=15)
