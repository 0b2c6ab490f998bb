# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM stage 1: the focuser and its head on uniformly random patches, the glancer frozen.
# The ActivityNet path's stage-1 recipe (SGD momentum 0.9, wd 1e-4, backbone lr 5e-4, head lr
# 0.05, cosine, 50 epochs, batch 64) [unconfirmed for Sth-Sth: not in the spec].
_base_ = ['./adafocus-tsm_mbv2-r50.py']

model = dict(training_stage=1)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'local_head': dict(lr_mult=100.0)}))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=50, convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
