# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 2 (PPO on the patch policy only; encoders and f_C frozen in eval mode).
_base_ = ['./gfnet-regnety-800mf_p96-t5_stage1_8xb32_in1k.py']

model = dict(training_stage=2)
load_from = 'work_dirs/gfnet-regnety-800mf_p96-t5_stage1_8xb32_in1k/epoch_60.pth'
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_epochs=15)
