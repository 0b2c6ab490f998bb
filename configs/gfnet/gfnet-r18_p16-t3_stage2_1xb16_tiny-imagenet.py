# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny GFNet stage 2: PPO on the patch policy (Adam 3e-4), everything else frozen in eval mode.
_base_ = ['./gfnet-r18_p16-t3_stage1_1xb16_tiny-imagenet.py']

model = dict(training_stage=2)
load_from = 'work_dirs/gfnet-r18_p16-t3_stage1_1xb16_tiny-imagenet/epoch_20.pth'
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_epochs=5, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5))
