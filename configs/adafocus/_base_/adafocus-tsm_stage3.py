# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM stage 3: the classifier only (Sth-Sth stage-3 script: backbone_lr 0, fc_lr 5e-4)
# on the patches of the frozen policy's mean action. SGD momentum 0.9, wd 1e-4, cosine, 10
# epochs, batch 64 [unconfirmed: as the ActivityNet path].
_base_ = ['./adafocus-tsm_mbv2-r50.py']

model = dict(training_stage=3, stage3_trainable=('local_head', ))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=10, convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
