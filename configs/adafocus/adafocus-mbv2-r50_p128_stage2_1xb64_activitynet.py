# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 2, P = 128: only the patch policy is trained, by PPO (Adam 3e-4, gamma 0.7, clip
# 0.2, value 0.5, entropy 0.01; reward p_t[y] - p~_t[y] against a random patch from the
# un-advanced GRU state); glancer, focuser and classifier frozen in eval mode. 50 epochs, one GPU
# x 64 (the official code asserts no DDP; under DDP dynamicnet all-reduces the PPO gradients).
_base_ = ['./adafocus-mbv2-r50_p128_stage1_2xb32_activitynet.py']

model = dict(training_stage=2)
load_from = 'work_dirs/adafocus-mbv2-r50_p128_stage1_2xb32_activitynet/epoch_50.pth'
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(
    _delete_=True, optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
auto_scale_lr = dict(base_batch_size=64)
