# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 2 (reinforcement learning): only the patch policy is trained, by PPO (Adam 3e-4,
# betas (0.9, 0.999), K = 1 epoch per mini-batch, gamma 0.7, clip 0.2); encoders and f_C are
# frozen in eval mode; actions are sampled (sigma 0.1) by the behaviour copy; reward = gain of
# the ground-truth softmax probability. 15 epochs. Starts from the stage-1 checkpoint.
_base_ = ['./gfnet-r50_p96-t5_stage1_8xb32_in1k.py']

model = dict(training_stage=2)
load_from = 'work_dirs/gfnet-r50_p96-t5_stage1_8xb32_in1k/epoch_60.pth'
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_epochs=15)
