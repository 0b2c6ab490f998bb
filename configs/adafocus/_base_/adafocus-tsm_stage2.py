# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM stage 2: only the Gaussian patch policy (std 0.25), by PPO: Adam 3e-4, gamma 0.7,
# clip 0.2, value 0.5, entropy 0.01, one GPU x 64 (spec section 3, shared with the ActivityNet
# path); 50 epochs [unconfirmed for Sth-Sth].
_base_ = ['./adafocus-tsm_mbv2-r50.py']

model = dict(training_stage=2)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
