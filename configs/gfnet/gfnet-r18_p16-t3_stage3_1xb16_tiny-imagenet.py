# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny GFNet stage 3: fine-tune encoders and f_C on patches sampled from the frozen policy.
_base_ = ['./gfnet-r18_p16-t3_stage1_1xb16_tiny-imagenet.py']

model = dict(training_stage=3)
load_from = 'work_dirs/gfnet-r18_p16-t3_stage2_1xb16_tiny-imagenet/epoch_5.pth'
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=1.0)}))
train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = dict(T_max=10)
