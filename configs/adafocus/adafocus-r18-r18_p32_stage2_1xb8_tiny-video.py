# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny AdaFocus stage 2: PPO on the patch policy (Adam 3e-4), everything else frozen in eval mode.
_base_ = ['./adafocus-r18-r18_p32_stage1_1xb8_tiny-video.py']

model = dict(training_stage=2)
load_from = 'work_dirs/adafocus-r18-r18_p32_stage1_1xb8_tiny-video/epoch_10.pth'
optim_wrapper = dict(
    _delete_=True, optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_epochs=5, val_interval=5)
